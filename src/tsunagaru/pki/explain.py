"""Say in plain words what a certificate is for, as ``tsunagaru pki show`` prints it."""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tsunagaru.pki.names import (
    LEGACY_POLICY_OID,
    POLICY_OID,
    common_name,
    dns_names,
    fingerprint,
    nai_realms,
    policies,
    roles_of,
    usages,
    wbaid_of,
)

_EKU_WORDS = {"1.3.6.1.5.5.7.3.1": "serverAuth", "1.3.6.1.5.5.7.3.2": "clientAuth"}
_ROLE_WORDS = {"idp": "IdP (TLS server)", "anp": "ANP (TLS client)", "hub": "hub (server and client)"}


def _key_words(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    return type(key).__name__


def _constraints(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _kind(cert: x509.Certificate) -> str:
    bc = _constraints(cert)
    if bc is not None and bc.ca:
        limit = "" if bc.path_length is None else f", at most {bc.path_length} CA(s) below it"
        root = "self-signed root " if cert.issuer == cert.subject else ""
        return f"{root}CA certificate{limit}"
    return "end-entity (member) certificate" if bc is not None else "certificate without basicConstraints"


def _validity(cert: x509.Certificate, now: datetime) -> str:
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    span = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC"
    if now < start:
        return f"{span} - NOT YET VALID (starts in {(start - now).days} days)"
    if now > end:
        return f"{span} - EXPIRED {(now - end).days} days ago"
    return f"{span} - valid, {(end - now).days} days left"


def _policy(cert: x509.Certificate) -> str:
    present = policies(cert)
    if POLICY_OID in present:
        return f"OpenRoaming policy {POLICY_OID.dotted_string} present"
    if LEGACY_POLICY_OID in present:
        return f"legacy OpenRoaming policy {LEGACY_POLICY_OID.dotted_string} present"
    others = ", ".join(p.dotted_string for p in present)
    return "no OpenRoaming policy OID" + (f" (has {others})" if others else "")


def _roles(cert: x509.Certificate) -> str:
    roles = roles_of(cert)
    if roles:
        best = "hub" if any(r.value == "hub" for r in roles) else roles[0].value
        return _ROLE_WORDS[best]
    found = ", ".join(_EKU_WORDS.get(u.dotted_string, u.dotted_string) for u in usages(cert))
    return f"none (extendedKeyUsage: {found or 'absent'})"


def describe(cert: x509.Certificate, now: datetime) -> list[str]:
    """One line per fact an operator asks about, in a fixed order."""
    lines = [
        f"subject:   {cert.subject.rfc4514_string()}",
        f"issuer:    {cert.issuer.rfc4514_string()}",
        f"kind:      {_kind(cert)}, key {_key_words(cert)}",
        f"serial:    {cert.serial_number:x}",
        f"sha256:    {fingerprint(cert)}",
        f"validity:  {_validity(cert, now)}",
        f"policy:    {_policy(cert)}",
    ]
    bc = _constraints(cert)
    if bc is None or not bc.ca:
        lines.append(f"WBAID:     {wbaid_of(cert) or 'none (no UID in subject)'}")
        lines.append(f"role:      {_roles(cert)}")
        lines.append(f"DNS names: {', '.join(dns_names(cert)) or 'none'}")
        lines.append(f"realms:    {', '.join(nai_realms(cert)) or 'none'} (NAIRealm)")
        lines.append(
            f"CN:        {common_name(cert) or 'none'} (display only, never used to identify a peer)"
        )
    return lines
