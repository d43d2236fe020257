"""Apple profiles: every key against Apple's schemas, the CMS signature checked by ``openssl cms -verify``."""

from __future__ import annotations

import plistlib
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.passpoint.profiles.apple_schema import check_profile
from tests.passpoint.profiles.conftest import ProfilePki, required, settings_for
from tsunagaru.passpoint.profiles import apple
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    EapMethod,
    InnerMethod,
    PasswordCredential,
    ProfileSettings,
)


def _plist(settings: ProfileSettings, credential: Any) -> dict[str, Any]:
    return apple.build_plist(settings, credential, p12_password="p12-pass")


def _wifi(profile: dict[str, Any]) -> dict[str, Any]:
    (wifi,) = [p for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.wifi.managed"]
    return wifi


def test_ttls_profile_conforms_to_apple_schemas(settings: ProfileSettings, ttls: PasswordCredential) -> None:
    profile = _plist(settings, ttls)
    assert check_profile(profile) == []
    wifi = _wifi(profile)
    assert wifi["IsHotspot"] is True and wifi["ServiceProviderRoamingEnabled"] is True
    assert wifi["DomainName"] == settings.home_fqdn and wifi["NAIRealmNames"] == [settings.realm]
    assert wifi["RoamingConsortiumOIs"] == ["5A03BA0000", "004096"]
    eap = wifi["EAPClientConfiguration"]
    assert eap["AcceptEAPTypes"] == [21] and eap["TTLSInnerAuthentication"] == "MSCHAPv2"
    assert eap["UserName"] == ttls.username and eap["UserPassword"] == ttls.password
    assert eap["OuterIdentity"] == f"anonymous@{settings.realm}"
    assert eap["TLSTrustedServerNames"] == [settings.realm]
    assert (eap["TLSMinimumVersion"], eap["TLSMaximumVersion"]) == ("1.2", "1.3")
    anchors = {p["PayloadUUID"] for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.security.root"}
    assert set(eap["PayloadCertificateAnchorUUID"]) == anchors and len(anchors) == 1
    assert profile["RemovalDate"] == ttls.expires_at.replace(tzinfo=None)  # type: ignore[union-attr]


def test_tls_profile_carries_an_importable_pkcs12(settings: ProfileSettings, tls: CertificateCredential) -> None:
    profile = _plist(settings, tls)
    assert check_profile(profile) == []
    wifi = _wifi(profile)
    (identity,) = [p for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.security.pkcs12"]
    assert wifi["PayloadCertificateUUID"] == identity["PayloadUUID"]
    assert wifi["EAPClientConfiguration"]["AcceptEAPTypes"] == [13]
    key, cert, _ = pkcs12.load_key_and_certificates(identity["PayloadContent"], identity["Password"].encode())
    assert cert == tls.certificate and key is not None


@pytest.mark.parametrize("inner", [InnerMethod.PAP, InnerMethod.MSCHAPV2])
def test_other_methods_conform(settings: ProfileSettings, inner: InnerMethod) -> None:
    ttls_pap = PasswordCredential(f"d-1@{settings.realm}", "pw", EapMethod.TTLS, inner)
    peap = PasswordCredential(f"d-2@{settings.realm}", "pw", EapMethod.PEAP)
    for credential in (ttls_pap, peap):
        assert check_profile(_plist(settings, credential)) == []
    assert "TTLSInnerAuthentication" not in _wifi(_plist(settings, peap))["EAPClientConfiguration"]


def test_schema_checker_catches_what_apple_would_refuse(settings: ProfileSettings, ttls: PasswordCredential) -> None:
    profile = _plist(settings, ttls)
    wifi = _wifi(profile)
    wifi["IsHotspot"] = "yes"
    wifi["EAPClientConfiguration"]["TTLSInnerAuthentication"] = "MS-CHAP-V2"
    wifi["EAPClientConfiguration"]["OneTimePassword"] = True
    wifi["RoamingConsortiumOIs"] = ["5A03BA0000,004096"]
    del profile["PayloadUUID"]
    errors = "\n".join(check_profile(profile))
    for expected in ("IsHotspot: str", "MS-CHAP-V2", "'OneTimePassword' is not in", "RCOI '5A03BA0000,004096'",
                     "required key 'PayloadUUID'"):
        assert expected in errors, errors


def test_uuids_are_stable_and_distinct(pki: ProfilePki, settings: ProfileSettings, ttls: PasswordCredential) -> None:
    first, again = _plist(settings, ttls), _plist(settings, ttls)
    ids = [first["PayloadUUID"], *(p["PayloadUUID"] for p in first["PayloadContent"])]
    assert ids == [again["PayloadUUID"], *(p["PayloadUUID"] for p in again["PayloadContent"])]
    assert len(set(ids)) == len(ids) and all(uuid.UUID(i) for i in ids)
    other = PasswordCredential(f"d-other@{settings.realm}", "pw")
    assert _plist(settings, other)["PayloadUUID"] != first["PayloadUUID"]


def test_rotation_overlap_trusts_both_cas(pki: ProfilePki, ttls: PasswordCredential) -> None:
    from tests.passpoint.profiles.conftest import NOW
    from tsunagaru.pki.eapca import make_eap_ca

    new_ca = make_eap_ca("Tsunagaru Test IdP 2027", NOW)
    profile = _plist(settings_for(pki.eap_ca.cert, new_ca.cert), ttls)
    assert check_profile(profile) == []
    roots = [p["PayloadContent"] for p in profile["PayloadContent"] if p["PayloadType"] == "com.apple.security.root"]
    assert roots == [c.public_bytes(serialization.Encoding.DER) for c in (pki.eap_ca.cert, new_ca.cert)]
    assert len(_wifi(profile)["EAPClientConfiguration"]["PayloadCertificateAnchorUUID"]) == 2
    server = pki.server.cert.public_bytes(serialization.Encoding.DER)
    assert server not in roots  # the server certificate itself is never pinned


def _verify(tmp_path: Path, body: bytes, trusted: bytes) -> subprocess.CompletedProcess[bytes]:
    (tmp_path / "profile.mobileconfig").write_bytes(body)
    (tmp_path / "trust.pem").write_bytes(trusted)
    return subprocess.run(
        [required("openssl"), "cms", "-verify", "-inform", "DER", "-in", str(tmp_path / "profile.mobileconfig"),
         "-CAfile", str(tmp_path / "trust.pem"), "-purpose", "any", "-out", str(tmp_path / "content.plist")],
        capture_output=True, timeout=30, check=False)


@pytest.mark.parametrize("kind", ["ttls", "tls"])
def test_signature_verifies_with_openssl(tmp_path: Path, pki: ProfilePki, settings: ProfileSettings,
                                         ttls: PasswordCredential, tls: CertificateCredential, kind: str) -> None:
    credential = ttls if kind == "ttls" else tls
    profile = apple.build(settings, credential, pki.signer, p12_password="p12-pass")
    assert profile.content_type == "application/x-apple-aspen-config"
    done = _verify(tmp_path, profile.data, pki.signing_ca.cert.public_bytes(serialization.Encoding.PEM))
    assert done.returncode == 0, done.stderr.decode()
    assert b"Verification successful" in done.stderr
    content = plistlib.loads((tmp_path / "content.plist").read_bytes())
    assert check_profile(content) == []
    assert _wifi(content)["EAPClientConfiguration"]["UserName"] == credential.username


def test_tampered_or_foreign_signature_is_refused(tmp_path: Path, pki: ProfilePki, settings: ProfileSettings,
                                                  ttls: PasswordCredential) -> None:
    body = bytearray(apple.build(settings, ttls, pki.signer).data)
    at = body.index(b"ServiceProviderRoamingEnabled")
    body[at] ^= 0x01
    trusted = pki.signing_ca.cert.public_bytes(serialization.Encoding.PEM)
    assert _verify(tmp_path, bytes(body), trusted).returncode != 0
    good = apple.build(settings, ttls, pki.signer).data
    foreign = pki.eap_ca.cert.public_bytes(serialization.Encoding.PEM)
    assert _verify(tmp_path, good, foreign).returncode != 0


def test_unsigned_profile_is_plain_plist(settings: ProfileSettings, ttls: PasswordCredential) -> None:
    body = apple.build(settings, ttls, None).data
    assert body.startswith(b"<?xml") and check_profile(plistlib.loads(body)) == []


def test_signer_chain_travels_with_the_signature(tmp_path: Path, settings: ProfileSettings,
                                                 ttls: PasswordCredential) -> None:
    """A signing certificate under an intermediate verifies against the root alone (chain in the CMS)."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from tests.passpoint.profiles.conftest import NOW
    from tsunagaru.passpoint.profiles.model import SigningIdentity
    from tsunagaru.pki.build import issue_leaf, make_intermediate, self_signed_ca

    root = self_signed_ca(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Root")]), NOW, days=30)
    issuing = make_intermediate(root, "Issuing", NOW, path_length=0, policy_oids=())
    leaf = issue_leaf(issuing, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Portal")]), NOW, days=30,
                      key_type="rsa", usages=(ExtendedKeyUsageOID.EMAIL_PROTECTION,))
    signer = SigningIdentity(leaf.cert, leaf.key, (issuing.cert,))  # type: ignore[arg-type]
    trusted = root.cert.public_bytes(serialization.Encoding.PEM)
    done = _verify(tmp_path, apple.build(settings, ttls, signer).data, trusted)
    assert done.returncode == 0, done.stderr.decode()
