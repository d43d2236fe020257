"""The IdP's own small CA for EAP: what devices trust (``ca.pem``), the EAP server certificate they check,
and per-user client certificates for EAP-TLS.

This is separate from the federation PKI on purpose: devices should trust only the IdP's EAP CA, and the
IdP can rotate or revoke user certificates without asking the federation.
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import NoEncryption, pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tsunagaru.pki.build import CertKey, KeyType, issue_leaf, self_signed_ca
from tsunagaru.pki.errors import PkiError
from tsunagaru.pki.names import check_dns_name, subject_alt_names


def _name(common: str, organisation: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)] if organisation else []
    return x509.Name([*attrs, x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_eap_ca(name: str, now: datetime, *, days: int = 3650) -> CertKey:
    """A self-signed CA (EC P-384, pathlen 0) that signs the EAP server and user certificates."""
    return self_signed_ca(_name(f"{name} EAP CA", name), now, days=days, path_length=0)


def issue_server_certificate(
    ca: CertKey, hostname: str, now: datetime, days: int = 825, *, key_type: KeyType = "ec"
) -> CertKey:
    """The EAP server certificate: serverAuth, CN and dNSName ``hostname`` (what profiles pin as
    TLSTrustedServerNames / domain suffix match)."""
    hostname = check_dns_name(hostname)
    san = subject_alt_names([hostname], [])
    usage = (ExtendedKeyUsageOID.SERVER_AUTH,)
    return issue_leaf(ca, _name(hostname), now, days=days, key_type=key_type, usages=usage, san=san)


def issue_user_certificate(
    ca: CertKey, username: str, now: datetime, days: int = 365, *, key_type: KeyType = "ec"
) -> CertKey:
    """An EAP-TLS client certificate for ``username`` (CN; clientAuth only)."""
    if not username or len(username) > 253 or any(c in username for c in "\x00\r\n,"):
        raise PkiError(f"unusable user name {username!r} for a certificate")
    usage = (ExtendedKeyUsageOID.CLIENT_AUTH,)
    return issue_leaf(ca, _name(username), now, days=days, key_type=key_type, usages=usage)


def export_pkcs12(item: CertKey, *, name: str | None = None) -> bytes:
    """PKCS#12 with the key, the certificate and its CA, and an empty password (no encryption), as
    Android's ``application/x-pkcs12`` and ``openssl pkcs12 -passin pass:`` take it."""
    label = (name or str(item.cert.subject.rfc4514_string())).encode()
    return pkcs12.serialize_key_and_certificates(
        label, item.key, item.cert, list(item.chain) or None, NoEncryption()
    )
