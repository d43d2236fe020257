"""What the builders put in certificates, and the folder layout of a FederationPKI."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.pki.conftest import NOW, Federation
from tsunagaru.pki import FederationPKI, PkiError, Reason, Role, Wbaid, new_key, sign_csr, verify_peer
from tsunagaru.pki.names import (
    MEMBER_OU,
    POLICY_OID,
    dns_names,
    nai_realm_name,
    nai_realms,
    policies,
    wbaid_of,
)
from tsunagaru.pki.store import parse_serial

SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH


def _eku(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_member_certificate_has_the_federation_shape(fed_a: Federation) -> None:
    member = fed_a.member("idp", fqdn="RadSec.IdP.example", wbaid="SUB1.EXAMPLE:JP", realms=["idp.example"])
    cert = member.cert
    subject = {a.oid: a.value for a in cert.subject}
    assert subject == {
        NameOID.ORGANIZATIONAL_UNIT_NAME: MEMBER_OU,
        NameOID.COMMON_NAME: "radsec.idp.example",
        NameOID.USER_ID: "SUB1.EXAMPLE:JP",
    }
    assert wbaid_of(cert) == "SUB1.EXAMPLE:JP"
    assert dns_names(cert) == ["radsec.idp.example"]
    assert nai_realms(cert) == ["idp.example"]
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"  # type: ignore[union-attr]
    assert member.chain == (fed_a.issuing.cert, fed_a.policy.cert)


def test_ca_hierarchy_keys_policies_and_path_lengths(fed_a: Federation) -> None:
    for ca, path_length in ((fed_a.root, None), (fed_a.policy, 1), (fed_a.issuing, 0)):
        key = ca.cert.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp384r1"
        bc = ca.cert.extensions.get_extension_for_class(x509.BasicConstraints)
        assert bc.critical and bc.value.ca and bc.value.path_length == path_length
        assert isinstance(ca.cert.signature_hash_algorithm, hashes.SHA384)
    assert policies(fed_a.root.cert) == []
    assert policies(fed_a.policy.cert) == policies(fed_a.issuing.cert) == [POLICY_OID]
    assert policies(fed_a.member().cert) == [POLICY_OID]


@pytest.mark.parametrize(
    ("role", "usages"), [("idp", {SERVER}), ("anp", {CLIENT}), ("hub", {SERVER, CLIENT})]
)
def test_usages_follow_the_role(fed_a: Federation, role: str, usages: set[x509.ObjectIdentifier]) -> None:
    assert _eku(fed_a.member(role).cert) == usages


def test_rsa_leaf(fed_a: Federation) -> None:
    key = fed_a.member(key_type="rsa").cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 2048


def test_nai_realm_is_an_utf8_othername() -> None:
    name = nai_realm_name("idp.example")
    assert name.type_id.dotted_string == "1.3.6.1.5.5.7.8.8"
    assert name.value == b"\x0c\x0bidp.example"


@pytest.mark.parametrize("good", ["EXAMPLE:JP", "WBA-1:US", "SUB_1.EXAMPLE:JP", "A:GB"])
def test_valid_wbaids(good: str) -> None:
    assert str(Wbaid.parse(good)) == good


@pytest.mark.parametrize(
    "bad", ["example:jp", "EXAMPLE", "EXAMPLE:JPN", ":JP", "EX AMPLE:JP", "A.B.C:JP", ""]
)
def test_invalid_wbaids_are_refused(bad: str) -> None:
    with pytest.raises(PkiError, match="invalid WBAID"):
        Wbaid.parse(bad)


def test_lower_case_wbaid_gets_a_hint() -> None:
    with pytest.raises(PkiError, match="did you mean 'EXAMPLE:JP'"):
        Wbaid.parse("example:jp")


def test_role_parse() -> None:
    assert Role.parse(" HUB ") is Role.HUB
    with pytest.raises(PkiError, match="unknown role"):
        Role.parse("proxy")


def _csr(
    common: str, uid: str | None = None, sans: list[x509.GeneralName] | None = None
) -> x509.CertificateSigningRequest:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if uid:
        attrs.append(x509.NameAttribute(NameOID.USER_ID, uid))
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
    # A requester asking for extra usages and odd names gets only what its role and the federation allow.
    builder = builder.add_extension(x509.ExtendedKeyUsage([SERVER, CLIENT]), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(new_key("ec"), hashes.SHA256())


def test_sign_csr_uses_the_role_not_the_request(fed_a: Federation) -> None:
    sans: list[x509.GeneralName] = [
        x509.DNSName("proxy.anp.example"),
        x509.RFC822Name("x@example"),
        nai_realm_name("anp.example"),
    ]
    cert = sign_csr(fed_a.issuing, _csr("proxy.anp.example", "CITY:JP", sans), "anp", NOW)
    assert _eku(cert) == {CLIENT}
    assert wbaid_of(cert) == "CITY:JP"
    assert dns_names(cert) == ["proxy.anp.example"] and nai_realms(cert) == ["anp.example"]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert not san.get_values_for_type(x509.RFC822Name)
    result = verify_peer(
        [cert, *fed_a.issuing.with_chain], roots=[fed_a.root.cert], direction="client", now=NOW
    )
    assert result.ok, result.explain()


def test_sign_csr_needs_a_wbaid(fed_a: Federation) -> None:
    with pytest.raises(PkiError, match="no UID"):
        sign_csr(fed_a.issuing, _csr("proxy.anp.example"), "anp", NOW)
    cert = sign_csr(fed_a.issuing, _csr("proxy.anp.example"), "anp", NOW, wbaid="CITY:JP")
    assert wbaid_of(cert) == "CITY:JP" and dns_names(cert) == ["proxy.anp.example"]


def test_member_never_outlives_its_issuer(fed_a: Federation) -> None:
    assert fed_a.member(days=100_000).cert.not_valid_after_utc == fed_a.issuing.cert.not_valid_after_utc


# --- the folder ----------------------------------------------------------------------------------------


def test_folder_layout_modes_and_reload(tmp_path: Path) -> None:
    pki = FederationPKI.create(tmp_path / "fed", "Folder Federation", NOW)
    names = {p.name for p in (tmp_path / "fed").iterdir()}
    assert {
        "root.pem",
        "root.key",
        "policy-ca.pem",
        "policy-ca.key",
        "issuing-ca.pem",
        "issuing-ca.key",
        "chain.pem",
        "crl.pem",
        "index.json",
    } <= names
    for key in ("root.key", "policy-ca.key", "issuing-ca.key"):
        assert stat.S_IMODE((tmp_path / "fed" / key).stat().st_mode) == 0o600
    again = FederationPKI.load(tmp_path / "fed")
    assert again.root.cert == pki.root.cert and again.name == "Folder Federation"
    issued = again.issue_member("radsec.idp.example", "EXAMPLE:JP", "idp", realms=["idp.example"], now=NOW)
    assert stat.S_IMODE(issued.key_path.stat().st_mode) == 0o600
    assert issued.cert_path.read_bytes().count(b"BEGIN CERTIFICATE") == 3  # leaf, issuing CA, policy CA
    index = json.loads((tmp_path / "fed" / "index.json").read_text())
    assert [e["role"] for e in index["issued"]] == ["policy-ca", "issuing-ca", "idp"]
    with pytest.raises(PkiError, match="already holds a PKI"):
        FederationPKI.create(tmp_path / "fed", "Again", NOW)


def test_revocation_reaches_the_published_crl(tmp_path: Path) -> None:
    pki = FederationPKI.create(tmp_path / "fed", "Revoking Federation", NOW)
    member = pki.issue_member("radsec.idp.example", "EXAMPLE:JP", "idp", now=NOW).credential
    pki.revoke(member.cert.serial_number, now=NOW)
    pki.revoke(pki.issuing_ca.cert.serial_number, now=NOW)
    crls = FederationPKI.load(tmp_path / "fed").crls()
    by_issuer = {crl.issuer: crl for crl in crls}
    assert by_issuer[pki.issuing_ca.cert.subject].get_revoked_certificate_by_serial_number(
        member.cert.serial_number
    )
    assert by_issuer[pki.policy_ca.cert.subject].get_revoked_certificate_by_serial_number(
        pki.issuing_ca.cert.serial_number
    )
    assert all(crl.next_update_utc is not None and crl.next_update_utc > NOW for crl in crls)
    result = verify_peer(member.with_chain, roots=[pki.root.cert], direction="server", now=NOW, crls=crls)
    assert result.reason is Reason.REVOKED
    with pytest.raises(PkiError, match="already revoked"):
        pki.revoke(member.cert.serial_number, now=NOW)
    with pytest.raises(PkiError, match="not issued by this PKI"):
        pki.revoke(12345, now=NOW)


def test_two_federations_side_by_side(tmp_path: Path) -> None:
    a = FederationPKI.create(tmp_path / "a", "Old Federation", NOW)
    b = FederationPKI.create(tmp_path / "b", "New Federation", NOW, key_type="rsa")
    roots = [a.root.cert, b.root.cert]
    for pki in (a, b):
        member = pki.issue_member("hub.example", "HUB:JP", "hub", now=NOW).credential
        result = verify_peer(
            member.with_chain, roots=roots, direction="client", now=NOW, crls=[*a.crls(), *b.crls()]
        )
        assert result.ok, result.explain()
    assert isinstance(member.key, rsa.RSAPrivateKey)


@pytest.mark.parametrize(("text", "value"), [("0x1F", 31), ("1f", 31), ("01:1f", 287)])
def test_parse_serial(text: str, value: int) -> None:
    assert parse_serial(text) == value


def test_parse_serial_refuses_junk() -> None:
    with pytest.raises(PkiError, match="hexadecimal"):
        parse_serial("serial-7")


def test_sign_csr_refuses_tampered_or_weak_requests(fed_a: Federation) -> None:
    der = bytearray(_csr("proxy.anp.example", "CITY:JP").public_bytes(Encoding.DER))
    der[-1] ^= 0x01  # a bit of the signature
    with pytest.raises(PkiError, match="signature does not verify"):
        sign_csr(fed_a.issuing, x509.load_der_x509_csr(bytes(der)), "anp", NOW)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "proxy.anp.example")])
    odd_curve = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject)
        .sign(ec.generate_private_key(ec.SECP256K1()), hashes.SHA256())
    )
    with pytest.raises(PkiError, match="curve secp256k1"):
        sign_csr(fed_a.issuing, odd_curve, "anp", NOW, wbaid="CITY:JP")
    no_cn = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([]))
        .sign(
            new_key("ec"),
            hashes.SHA256(),
        )
    )
    with pytest.raises(PkiError, match="no CN"):
        sign_csr(fed_a.issuing, no_cn, "anp", NOW, wbaid="CITY:JP")
