"""What a federation certificate says about its holder: OIDs, roles, WBAID and the names it may answer to.

OpenRoaming identifies a member by its WBAID in the subject's UID (``[SUBID.]WBAID``), authorises it by
the certificate policy OID, and checks names only in the subjectAltName (dNSName or NAIRealm): the CN is
for people reading the certificate, never for a decision.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from tsunagaru.pki.errors import PkiError

#: WBA OpenRoaming certificate policy carried by every certificate below the root.
POLICY_OID = ObjectIdentifier("1.3.6.1.4.1.14122.1.1.7")
#: The previous policy OID, still accepted when verifying peers.
LEGACY_POLICY_OID = ObjectIdentifier("1.3.6.1.4.1.14122.1.1.6")
ACCEPTED_POLICY_OIDS = frozenset({POLICY_OID, LEGACY_POLICY_OID})
#: id-on-naiRealm (RFC 7585 section 2.2): an otherName SAN holding a UTF8String realm.
NAI_REALM_OID = ObjectIdentifier("1.3.6.1.5.5.7.8.8")
MEMBER_OU = "WBA:WRIX End-Entity"

_WBAID = re.compile(
    r"^(?:(?P<subid>[A-Z0-9][A-Z0-9_-]{0,62})\.)?(?P<wbaid>[A-Z0-9][A-Z0-9_-]{0,62}:[A-Z]{2})$"
)
_DNS_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class Role(Enum):
    """What a member does in RadSec: an IdP is a TLS server, an ANP a client, a hub both."""

    IDP = "idp"
    ANP = "anp"
    HUB = "hub"

    @property
    def usages(self) -> tuple[ObjectIdentifier, ...]:
        return {
            Role.IDP: (ExtendedKeyUsageOID.SERVER_AUTH,),
            Role.ANP: (ExtendedKeyUsageOID.CLIENT_AUTH,),
            Role.HUB: (ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
        }[self]

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise PkiError(f"unknown role {text!r}: use idp (server), anp (client) or hub (both)") from None


@dataclass(frozen=True, slots=True)
class Wbaid:
    """A member identifier as written in the UID attribute: ``SUBID.NAME:CC`` or ``NAME:CC``."""

    wbaid: str
    subid: str | None = None

    @classmethod
    def parse(cls, text: str) -> Wbaid:
        match = _WBAID.match(text)
        if match is None:
            hint = f" (did you mean {text.upper()!r}?)" if _WBAID.match(text.upper()) else ""
            raise PkiError(
                f"invalid WBAID {text!r}{hint}: expected upper-case NAME:CC such as EXAMPLE:JP, "
                "optionally prefixed by SUBID."
            )
        return cls(match["wbaid"], match["subid"])

    def __str__(self) -> str:
        return f"{self.subid}.{self.wbaid}" if self.subid else self.wbaid


def check_dns_name(name: str) -> str:
    """A host name fit for a dNSName SAN (lower-cased); an optional leading ``*.`` wildcard."""
    labels = name.lower().rstrip(".").split(".")
    body = labels[1:] if labels[0] == "*" else labels
    if len(body) < 1 or len(name) > 253 or not all(_DNS_LABEL.match(label) for label in body):
        raise PkiError(f"invalid DNS name {name!r}")
    return ".".join(labels)


def member_subject(fqdn: str, wbaid: Wbaid) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, MEMBER_OU),
            x509.NameAttribute(NameOID.COMMON_NAME, fqdn),
            x509.NameAttribute(NameOID.USER_ID, str(wbaid)),
        ]
    )


def _der_utf8(text: str) -> bytes:
    """DER UTF8String (tag 12); the value cryptography expects inside an otherName."""
    raw = text.encode()
    if len(raw) < 0x80:
        return bytes([0x0C, len(raw)]) + raw
    size = len(raw).to_bytes((len(raw).bit_length() + 7) // 8, "big")
    return bytes([0x0C, 0x80 | len(size)]) + size + raw


def realm_of(name: x509.OtherName) -> str | None:
    """The realm in a NAIRealm otherName, or None when its value is not a well-formed UTF8String."""
    return _read_der_utf8(name.value) if name.type_id == NAI_REALM_OID else None


def _read_der_utf8(der: bytes) -> str | None:
    if len(der) < 2 or der[0] != 0x0C:
        return None
    length, offset = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(der[2 : 2 + count], "big"), 2 + count
    body = der[offset : offset + length]
    if len(body) != length or offset + length != len(der):
        return None
    try:
        return body.decode()
    except UnicodeDecodeError:
        return None


def nai_realm_name(realm: str) -> x509.OtherName:
    return x509.OtherName(NAI_REALM_OID, _der_utf8(check_dns_name(realm)))


def subject_alt_names(dns_names: Iterable[str], realms: Iterable[str]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = [x509.DNSName(check_dns_name(n)) for n in dns_names]
    general += [nai_realm_name(r) for r in realms]
    return x509.SubjectAlternativeName(general)


def _san(cert: x509.Certificate) -> x509.SubjectAlternativeName | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None


def dns_names(cert: x509.Certificate) -> list[str]:
    san = _san(cert)
    return [n.lower() for n in san.get_values_for_type(x509.DNSName)] if san else []


def nai_realms(cert: x509.Certificate) -> list[str]:
    san = _san(cert)
    if san is None:
        return []
    found = (
        _read_der_utf8(o.value) for o in san.get_values_for_type(x509.OtherName) if o.type_id == NAI_REALM_OID
    )
    return [r.lower() for r in found if r]


def common_name(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else None


def wbaid_of(cert: x509.Certificate) -> str | None:
    values = cert.subject.get_attributes_for_oid(NameOID.USER_ID)
    return str(values[0].value) if values else None


def usages(cert: x509.Certificate) -> list[ObjectIdentifier]:
    try:
        return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
    except x509.ExtensionNotFound:
        return []


def roles_of(cert: x509.Certificate) -> list[Role]:
    """Every role the EKU allows: a hub certificate may act as IdP, ANP and hub."""
    have = set(usages(cert))
    return [role for role in Role if set(role.usages) <= have]


def policies(cert: x509.Certificate) -> list[ObjectIdentifier]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return []
    return [p.policy_identifier for p in ext]


def name_matches(pattern: str, name: str) -> bool:
    """Case-insensitive match; a ``*`` may stand for exactly the whole left-most label."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern.startswith("*."):
        head, _, tail = name.partition(".")
        return bool(head) and tail == pattern[2:]
    return pattern == name


def as_utc(now: datetime) -> datetime:
    """A naive ``now`` means UTC (as cryptography reads it); aware times are converted."""
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lower-case hex."""
    return cert.fingerprint(hashes.SHA256()).hex()
