"""Build the federation hierarchy and its member certificates: pure functions, time passed in.

Shape (as in WBA's OpenRoaming PKI): root -> policy CA -> issuing CA -> member. CAs use EC P-384; members
EC P-256 by default or RSA-2048. Every certificate below the root carries the policy OID; the CAs carry
pathLenConstraint 1 (policy) and 0 (issuing) so a member can never act as a CA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID, ObjectIdentifier

from tsunagaru.pki.errors import PkiError
from tsunagaru.pki.names import (
    NAI_REALM_OID,
    POLICY_OID,
    Role,
    Wbaid,
    as_utc,
    check_dns_name,
    member_subject,
    realm_of,
    subject_alt_names,
)

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
KeyType = Literal["ec", "rsa"]
TLS_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
#: Slack before ``now`` so that a peer whose clock is a little behind still accepts a fresh certificate.
BACKDATE = timedelta(minutes=5)


@dataclass(frozen=True)
class CertKey:
    """A certificate, its private key, and the intermediates above it (nearest first, root excluded)."""

    cert: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = field(default=())

    @property
    def with_chain(self) -> list[x509.Certificate]:
        return [self.cert, *self.chain]


def new_key(kind: KeyType | Literal["ca"] = "ec") -> PrivateKey:
    """``ca``: EC P-384; ``ec``: EC P-256; ``rsa``: RSA-2048."""
    if kind == "ca":
        return ec.generate_private_key(ec.SECP384R1())
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise PkiError(f"unknown key type {kind!r}: use ec or rsa")


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _key_usage(ca: bool, public_key: object) -> x509.KeyUsage:
    encipher = isinstance(public_key, rsa.RSAPublicKey) and not ca
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=encipher,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def build_certificate(
    *,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    issuer: CertKey | None,
    signing_key: PrivateKey,
    now: datetime,
    days: int,
    ca: bool | None,
    path_length: int | None = None,
    policy_oids: Sequence[ObjectIdentifier] = (),
    usages: Sequence[ObjectIdentifier] = (),
    san: x509.SubjectAlternativeName | None = None,
) -> x509.Certificate:
    """The one place certificates are made. ``issuer=None`` means self-signed; ``ca=None`` leaves out
    basicConstraints (only tests want that, to prove verification refuses it)."""
    now = as_utc(now)
    not_after = now + timedelta(days=days)
    if issuer is not None:
        not_after = min(not_after, issuer.cert.not_valid_after_utc)
    issuer_name = issuer.cert.subject if issuer else subject
    issuer_public = issuer.cert.public_key() if issuer else public_key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_key_usage(bool(ca), public_key), critical=True)
    )
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public)  # type: ignore[arg-type]
    builder = builder.add_extension(aki, critical=False)
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
    if policy_oids:
        infos = [x509.PolicyInformation(oid, None) for oid in policy_oids]
        builder = builder.add_extension(x509.CertificatePolicies(infos), critical=False)
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
    if san is not None:
        builder = builder.add_extension(san, critical=False)
    return builder.sign(signing_key, _hash_for(signing_key))


def _ca_name(organisation: str, common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def make_root(name: str, now: datetime, *, days: int = 7300) -> CertKey:
    """A self-signed federation root (no policy OID: the root is the trust anchor, not a member)."""
    return self_signed_ca(_ca_name(name, f"{name} Root CA"), now, days=days)


def self_signed_ca(
    subject: x509.Name, now: datetime, *, days: int, path_length: int | None = None
) -> CertKey:
    """A fresh EC P-384 key and a self-signed CA certificate for it."""
    key = new_key("ca")
    cert = build_certificate(
        subject=subject,
        public_key=key.public_key(),
        issuer=None,
        signing_key=key,
        now=now,
        days=days,
        ca=True,
        path_length=path_length,
    )
    return CertKey(cert, key)


def make_intermediate(
    parent: CertKey,
    common: str,
    now: datetime,
    *,
    path_length: int,
    days: int = 3650,
    policy_oids: Sequence[ObjectIdentifier] = (POLICY_OID,),
) -> CertKey:
    """A CA below ``parent`` (policy CA: ``path_length=1``; issuing CA: ``path_length=0``)."""
    key = new_key("ca")
    organisation = parent.cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    org = str(organisation[0].value) if organisation else common
    cert = build_certificate(
        subject=_ca_name(org, common),
        public_key=key.public_key(),
        issuer=parent,
        signing_key=parent.key,
        now=now,
        days=days,
        ca=True,
        path_length=path_length,
        policy_oids=policy_oids,
    )
    chain = (parent.cert, *parent.chain) if _is_intermediate(parent.cert) else ()
    return CertKey(cert, key, chain)


def _is_intermediate(cert: x509.Certificate) -> bool:
    return cert.issuer != cert.subject


def issue_member(
    issuer: CertKey,
    fqdn: str,
    wbaid: str,
    role: Role | str,
    now: datetime,
    *,
    realms: Sequence[str] = (),
    dns_names: Sequence[str] = (),
    key_type: KeyType = "ec",
    days: int = 365,
    policy_oids: Sequence[ObjectIdentifier] = (POLICY_OID,),
) -> CertKey:
    """A member certificate: OU=WBA:WRIX End-Entity, CN=fqdn, UID=WBAID; SAN dNSName fqdn (plus
    ``dns_names``) and a NAIRealm per realm; EKU by role."""
    role = role if isinstance(role, Role) else Role.parse(role)
    fqdn = check_dns_name(fqdn)
    names = [fqdn, *(n for n in dns_names if check_dns_name(n) != fqdn)]
    subject = member_subject(fqdn, Wbaid.parse(wbaid))
    san = subject_alt_names(names, realms)
    return issue_leaf(
        issuer,
        subject,
        now,
        days=days,
        key_type=key_type,
        usages=role.usages,
        san=san,
        policy_oids=policy_oids,
    )


def issue_leaf(
    issuer: CertKey,
    subject: x509.Name,
    now: datetime,
    *,
    days: int,
    key_type: KeyType,
    usages: Sequence[ObjectIdentifier],
    san: x509.SubjectAlternativeName | None = None,
    policy_oids: Sequence[ObjectIdentifier] = (),
) -> CertKey:
    """A fresh key and an end-entity certificate for it, with the issuer's chain attached."""
    key = new_key(key_type)
    cert = build_certificate(
        subject=subject,
        public_key=key.public_key(),
        issuer=issuer,
        signing_key=issuer.key,
        now=now,
        days=days,
        ca=False,
        policy_oids=policy_oids,
        usages=usages,
        san=san,
    )
    return CertKey(cert, key, (issuer.cert, *issuer.chain))


def _csr_wbaid(csr: x509.CertificateSigningRequest, wbaid: str | None) -> Wbaid:
    if wbaid is not None:
        return Wbaid.parse(wbaid)
    values = csr.subject.get_attributes_for_oid(NameOID.USER_ID)
    if not values:
        raise PkiError("the CSR has no UID (WBAID) in its subject: pass the WBAID explicitly")
    return Wbaid.parse(str(values[0].value))


def _csr_san(csr: x509.CertificateSigningRequest, fqdn: str) -> x509.SubjectAlternativeName:
    """Keep only the names a member may claim (dNSName, NAIRealm); default to the CN."""
    try:
        requested = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return subject_alt_names([fqdn], [])
    dns = requested.get_values_for_type(x509.DNSName) or [fqdn]
    realms = [
        realm_of(o) for o in requested.get_values_for_type(x509.OtherName) if o.type_id == NAI_REALM_OID
    ]
    if None in realms:
        raise PkiError("the CSR asks for a NAIRealm that is not a UTF8String realm")
    return subject_alt_names(dns, [r for r in realms if r])


def sign_csr(
    issuer: CertKey,
    csr: x509.CertificateSigningRequest,
    role: Role | str,
    now: datetime,
    *,
    wbaid: str | None = None,
    days: int = 365,
) -> x509.Certificate:
    """Issue a member certificate for a CSR. The subject is rebuilt in the federation's shape from the
    CSR's CN and UID; usages come from ``role``, never from the request."""
    role = role if isinstance(role, Role) else Role.parse(role)
    if not csr.is_signature_valid:
        raise PkiError("the CSR's signature does not verify: it was not made with the key it carries")
    fqdn = common_name_of_csr(csr)
    public_key = csr.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise PkiError("the CSR's key must be EC or RSA")
    if isinstance(public_key, rsa.RSAPublicKey) and public_key.key_size < 2048:
        raise PkiError(f"the CSR's RSA key has {public_key.key_size} bits; at least 2048 are required")
    if isinstance(public_key, ec.EllipticCurvePublicKey) and public_key.curve.name not in TLS_CURVES:
        raise PkiError(
            f"the CSR's EC curve {public_key.curve.name} is not one TLS peers accept (P-256/384/521)"
        )
    return build_certificate(
        subject=member_subject(fqdn, _csr_wbaid(csr, wbaid)),
        public_key=public_key,
        issuer=issuer,
        signing_key=issuer.key,
        now=now,
        days=days,
        ca=False,
        policy_oids=(POLICY_OID,),
        usages=role.usages,
        san=_csr_san(csr, fqdn),
    )


def common_name_of_csr(csr: x509.CertificateSigningRequest) -> str:
    values = csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        raise PkiError("the CSR has no CN: it must name the member's host (CN=<fqdn>)")
    return check_dns_name(str(values[0].value))


def is_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Name linkage and signature both hold."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
