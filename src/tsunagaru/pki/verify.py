"""Decide whether a RadSec peer's certificate chain belongs to the federation: pure, no sockets, no clock.

The checks run in a fixed order and the first failure ends the run with one :class:`Reason` and a
sentence an operator can act on; ``steps`` records what was checked along the way:

1. the chain is not empty and its first certificate is not one of ours (a loop to ourselves);
2. a path exists from it to ANY configured root (issuer names link, every signature verifies);
3. issuers are CAs (basicConstraints, keyCertSign), the leaf is not, and no pathLenConstraint is broken;
4. every certificate on the path is inside its validity window at ``now``;
5. every certificate below the root carries the federation policy OID (current or legacy);
6. the leaf's extendedKeyUsage fits the direction (serverAuth for a server, clientAuth for a client);
7. no certificate on the path is revoked by a CRL its issuer signed;
8. when names are expected, one matches a SAN dNSName or NAIRealm (the CN is never used).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal, NoReturn

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from tsunagaru.pki.build import is_issued_by
from tsunagaru.pki.names import (
    ACCEPTED_POLICY_OIDS,
    LEGACY_POLICY_OID,
    as_utc,
    common_name,
    dns_names,
    fingerprint,
    nai_realms,
    name_matches,
    policies,
    roles_of,
    usages,
    wbaid_of,
)
from tsunagaru.pki.revocation import CrlInput, check_revocation
from tsunagaru.pki.verdict import PeerIdentity, Reason, Refused, VerifyResult, label

Direction = Literal["server", "client"]
#: Longest path accepted, root included (the federation needs 4: member, issuing, policy, root).
MAX_PATH = 6


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def verify_peer(
    chain: Sequence[x509.Certificate],
    *,
    roots: Sequence[x509.Certificate],
    direction: Direction,
    now: datetime,
    crls: Sequence[CrlInput] = (),
    own_certificates: Sequence[x509.Certificate] = (),
    expected_names: Sequence[str] | None = None,
    require_crl: bool = False,
    require_policy: bool = True,
    strict_stale: bool = False,
) -> VerifyResult:
    """Verify the chain a peer presented (leaf first, the rest in any order). ``direction`` is the
    peer's side: ``"server"`` when we connected to it, ``"client"`` when it connected to us.
    ``require_policy=False`` skips the federation policy OID (access points under a city's own CA);
    ``strict_stale`` refuses on an out-of-date CRL (see :mod:`tsunagaru.pki.revocation`)."""
    steps: list[str] = []
    path: list[x509.Certificate] = []
    now = as_utc(now)
    try:
        _check_not_ours(chain, own_certificates, steps)
        path = build_path(chain, roots, steps)
        _check_constraints(path, steps)
        _check_validity(path, now, steps)
        if require_policy:
            _check_policies(path, steps)
        _check_usage(path[0], direction, steps)
        check_revocation(path, crls, now, require_crl, steps, label, strict_stale)
        _check_names(path[0], expected_names, steps)
    except Refused as refusal:
        return VerifyResult(False, refusal.reason, refusal.message, tuple(steps), tuple(path))
    leaf = path[0]
    peer = PeerIdentity(
        wbaid_of(leaf),
        common_name(leaf),
        tuple(dns_names(leaf)),
        tuple(nai_realms(leaf)),
        tuple(roles_of(leaf)),
        fingerprint(leaf),
    )
    message = f"{label(leaf, path)} (WBAID {peer.wbaid or 'none'}) is a federation member"
    return VerifyResult(True, Reason.OK, message, tuple(steps), tuple(path), peer)


def _check_not_ours(
    chain: Sequence[x509.Certificate], own: Sequence[x509.Certificate], steps: list[str]
) -> None:
    if not chain:
        raise Refused(Reason.EMPTY_CHAIN, "the peer presented no certificate")
    leaf = chain[0]
    leaf_key, leaf_print = _spki(leaf), fingerprint(leaf)
    for mine in own:
        if fingerprint(mine) == leaf_print or _spki(mine) == leaf_key:
            raise Refused(
                Reason.OWN_CERTIFICATE,
                f"the peer presented our own certificate '{common_name(leaf)}' (same key): this connection "
                "loops back to ourselves, check discovery records and static routes",
            )
    if own:
        steps.append("the peer is not ourselves (its key differs from each of our certificates)")


def build_path(
    chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate], steps: list[str]
) -> list[x509.Certificate]:
    """Walk from the leaf up through the presented certificates to a configured root."""
    path = [chain[0]]
    pool = [c for c in chain[1:] if c != chain[0]]
    while len(path) <= MAX_PATH:
        current = path[-1]
        anchor = next((r for r in roots if r.subject == current.issuer and is_issued_by(current, r)), None)
        if anchor is not None:
            path.append(anchor)
            names = " <- ".join(common_name(c) or "?" for c in path)
            steps.append(f"path to a configured root found, every signature verifies: {names}")
            return path
        parent = next((c for c in pool if c not in path and is_issued_by(current, c)), None)
        if parent is None:
            _refuse_dead_end(current, path, pool, roots)
        path.append(parent)
    raise Refused(Reason.PATH_TOO_LONG, f"the chain is longer than {MAX_PATH} certificates")


def _refuse_dead_end(
    current: x509.Certificate,
    path: Sequence[x509.Certificate],
    pool: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
) -> NoReturn:
    who = label(current, path if len(path) > 1 else [current])
    if current.issuer == current.subject:
        if len(path) == 1:
            raise Refused(Reason.SELF_SIGNED, f"{who} is self-signed, not issued by the federation PKI")
        raise Refused(
            Reason.UNKNOWN_ROOT, f"the chain ends at '{common_name(current)}', which is not one of our roots"
        )
    issuer = current.issuer.rfc4514_string()
    if any(c.subject == current.issuer for c in [*pool, *roots]):
        raise Refused(
            Reason.BAD_SIGNATURE,
            f"the signature on {who} does not verify with the key of its issuer '{issuer}': "
            "it was signed by someone else (forged or mixed-up chain)",
        )
    raise Refused(
        Reason.UNKNOWN_ROOT,
        f"{who} was issued by '{issuer}', which is neither one of our roots nor in the presented chain "
        "(unknown federation, or the peer does not send its intermediate CAs)",
    )


def _basic(cert: x509.Certificate) -> x509.BasicConstraints | None:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return None


def _can_sign_certs(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    except x509.ExtensionNotFound:
        return True


def _check_constraints(path: Sequence[x509.Certificate], steps: list[str]) -> None:
    leaf_bc = _basic(path[0])
    if leaf_bc is not None and leaf_bc.ca:
        raise Refused(Reason.LEAF_IS_CA, f"{label(path[0], path)} is a CA certificate, not a member's")
    for depth, issuer in enumerate(path[1:], start=1):
        bc = _basic(issuer)
        is_root = depth == len(path) - 1  # a configured trust anchor: its CA flag is taken as given
        if not is_root and (bc is None or not bc.ca or not _can_sign_certs(issuer)):
            raise Refused(
                Reason.NOT_A_CA,
                f"{label(issuer, path)} is not marked as a CA (basicConstraints CA:TRUE and keyCertSign), "
                "so it may not issue certificates",
            )
        below = depth - 1  # CAs between this one and the leaf
        if bc is not None and bc.path_length is not None and below > bc.path_length:
            raise Refused(
                Reason.PATH_TOO_LONG,
                f"{label(issuer, path)} allows {bc.path_length} CA(s) below it (pathLenConstraint) "
                f"but the chain has {below}",
            )
    steps.append("issuers are CAs, the peer's certificate is not, and path length limits hold")


def _check_validity(path: Sequence[x509.Certificate], now: datetime, steps: list[str]) -> None:
    for cert in path:
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        if now < start:
            raise Refused(
                Reason.NOT_YET_VALID,
                f"{label(cert, path)} is not valid before {start:%Y-%m-%d %H:%M} UTC "
                "(check the clock on both sides)",
            )
        if now > end:
            raise Refused(Reason.EXPIRED, f"{label(cert, path)} expired on {end:%Y-%m-%d %H:%M} UTC")
    leaf_end = path[0].not_valid_after_utc
    steps.append(f"every certificate is within its validity period (the peer's until {leaf_end:%Y-%m-%d})")


def _check_policies(path: Sequence[x509.Certificate], steps: list[str]) -> None:
    legacy = False
    for cert in path[:-1]:
        present = set(policies(cert))
        if not present & ACCEPTED_POLICY_OIDS:
            raise Refused(
                Reason.MISSING_POLICY,
                f"{label(cert, path)} lacks the OpenRoaming certificate policy "
                "(1.3.6.1.4.1.14122.1.1.7, or legacy ...1.6): not issued for federation use",
            )
        legacy = legacy or LEGACY_POLICY_OID in present
    note = " (legacy policy 1.3.6.1.4.1.14122.1.1.6 seen)" if legacy else ""
    steps.append(f"every certificate below the root carries the OpenRoaming policy OID{note}")


def _check_usage(leaf: x509.Certificate, direction: Direction, steps: list[str]) -> None:
    wanted = ExtendedKeyUsageOID.SERVER_AUTH if direction == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
    usage = "serverAuth" if direction == "server" else "clientAuth"
    if wanted not in usages(leaf):
        roles = ", ".join(r.value for r in roles_of(leaf)) or "none"
        side = (
            "an IdP/hub acting as TLS server" if direction == "server" else "an ANP/hub acting as TLS client"
        )
        raise Refused(
            Reason.WRONG_USAGE,
            f"the peer is acting as {direction} but its certificate lacks extendedKeyUsage {usage} "
            f"(it is for roles: {roles}); {side} needs a certificate issued for that role",
        )
    steps.append(f"the peer's certificate allows {usage}, as a {direction} needs")


def _check_names(leaf: x509.Certificate, expected: Sequence[str] | None, steps: list[str]) -> None:
    if expected is None:
        return
    have = [*dns_names(leaf), *nai_realms(leaf)]
    for want in expected:
        for name in have:
            if name_matches(name, want):
                steps.append(f"the certificate names '{want}' (subjectAltName {name})")
                return
    wanted = ", ".join(expected) or "(none)"
    if not have:
        raise Refused(
            Reason.NAME_MISMATCH,
            f"expected {wanted}, but the certificate has no dNSName or NAIRealm subjectAltName; "
            f"its CN '{common_name(leaf)}' is never used to identify a peer",
        )
    raise Refused(
        Reason.NAME_MISMATCH,
        f"expected {wanted}, but the certificate names only: {', '.join(have)} (CN is not considered)",
    )
