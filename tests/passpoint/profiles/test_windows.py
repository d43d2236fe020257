"""Windows CarrierProvisioning: the structure Windows' schemas enforce (order, namespaces, types), and
the enveloped signature verified by Debian's ``xmlsec1 --verify`` against the signing CA."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from lxml import etree

from tests.passpoint.profiles.conftest import NOW, ProfilePki, make_signer, required
from tsunagaru.passpoint.profiles import windows
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    EapMethod,
    InnerMethod,
    PasswordCredential,
    ProfileError,
    ProfileSettings,
)

DS = "http://www.w3.org/2000/09/xmldsig#"


def _xmlsec(tmp_path: Path, body: bytes, trusted: bytes) -> subprocess.CompletedProcess[str]:
    (tmp_path / "profile.xml").write_bytes(body)
    (tmp_path / "ca.pem").write_bytes(trusted)
    return subprocess.run([required("xmlsec1"), "--verify", "--trusted-pem", str(tmp_path / "ca.pem"),
                           str(tmp_path / "profile.xml")], capture_output=True, text=True, timeout=30, check=False)


def _pem(pki: ProfilePki) -> bytes:
    return pki.signing_ca.cert.public_bytes(serialization.Encoding.PEM)


def test_signature_verifies_with_xmlsec1(tmp_path: Path, pki: ProfilePki, settings: ProfileSettings,
                                         ttls: PasswordCredential) -> None:
    profile = windows.build(settings, ttls, pki.signer)
    done = _xmlsec(tmp_path, profile.data, _pem(pki))
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stderr


def test_tampered_or_foreign_signature_fails_xmlsec1(tmp_path: Path, pki: ProfilePki, settings: ProfileSettings,
                                                     ttls: PasswordCredential) -> None:
    body = windows.build(settings, ttls, pki.signer).data
    tampered = body.replace(b"<DomainName>idp.tsunagaru.test", b"<DomainName>evil.example")
    assert tampered != body and _xmlsec(tmp_path, tampered, _pem(pki)).returncode != 0
    other_ca, _ = make_signer(NOW, "Someone else")
    assert _xmlsec(tmp_path, body, other_ca.cert.public_bytes(serialization.Encoding.PEM)).returncode != 0


def test_signature_follows_microsofts_restricted_profile(pki: ProfilePki, settings: ProfileSettings,
                                                         ttls: PasswordCredential) -> None:
    root = etree.fromstring(windows.build(settings, ttls, pki.signer).data)
    signature = root[-1]
    assert signature.tag == f"{{{DS}}}Signature"
    (reference,) = signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    assert reference.get("URI") == ""
    transforms = reference.findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    assert [t.get("Algorithm") for t in transforms] == [f"{DS}enveloped-signature"]
    info = signature.find(f"{{{DS}}}SignedInfo")
    assert info is not None
    c14n = info.find(f"{{{DS}}}CanonicalizationMethod")
    method = info.find(f"{{{DS}}}SignatureMethod")
    assert c14n is not None and c14n.get("Algorithm") == "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    assert method is not None and method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
    assert signature.find(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate") is not None


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def test_document_structure_and_order(settings: ProfileSettings, ttls: PasswordCredential) -> None:
    root = windows.document(settings, ttls)
    assert [_local(c) for c in root] == ["Global", "WLANProfiles"]
    carrier, subscriber = (c.text or "" for c in root[0])
    assert re.fullmatch(r"\{[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}\}", carrier)
    assert re.fullmatch(r"\w{1,20}", subscriber)
    wlan = root[1][0]
    assert etree.QName(wlan).namespace == windows.NS_WLAN
    assert [_local(c) for c in wlan] == ["name", "Hotspot2", "MSM"]
    hotspot = wlan[1]
    assert [_local(c) for c in hotspot] == ["DomainName", "NAIRealm", "RoamingConsortium"]
    assert [o.text for o in hotspot[2]] == ["5a03ba0000", "004096"]
    assert all(re.fullmatch(r"(?:[0-9a-f]{2}){3,5}", o.text or "") for o in hotspot[2])
    security = wlan[2][0]
    assert [_local(c) for c in security] == ["authEncryption", "OneX", "EapHostUserCredentials"]
    ttls_config = security.find(f".//{{{windows.NS_TTLS}}}EapTtls")
    assert ttls_config is not None
    assert [_local(c) for c in ttls_config] == ["ServerValidation", "Phase2Authentication", "Phase1Identity"]
    hashes_ = [h.text for h in ttls_config.iter(f"{{{windows.NS_TTLS}}}TrustedRootCAHash")]
    assert hashes_ == [settings.ca_certificates[0].fingerprint(hashes.SHA1()).hex()]
    assert ttls_config.findtext(f".//{{{windows.NS_TTLS}}}ServerNames") == settings.realm
    assert ttls_config.findtext(f".//{{{windows.NS_TTLS}}}AnonymousIdentity") == settings.anonymous_identity
    assert _local(ttls_config[1][0]) == "MSCHAPv2Authentication"
    user = security.find(f".//{{{windows.NS_TTLS_USER}}}EapTtls")
    assert user is not None and [c.text for c in user] == [ttls.username, ttls.password]


def test_pap_and_ssid(settings: ProfileSettings) -> None:
    pap = PasswordCredential(f"d-5@{settings.realm}", "pw", EapMethod.TTLS, InnerMethod.PAP)
    root = windows.document(settings, pap, ssid="OpenRoaming")
    wlan = root[1][0]
    assert [_local(c) for c in wlan] == ["name", "SSIDConfig", "Hotspot2", "MSM"]
    assert wlan.find(f".//{{{windows.NS_TTLS}}}PAPAuthentication") is not None


def test_only_ttls_and_rsa(pki: ProfilePki, settings: ProfileSettings, tls: CertificateCredential) -> None:
    with pytest.raises(ProfileError, match="EAP-TTLS"):
        windows.document(settings, tls)
    with pytest.raises(ProfileError, match="EAP-TTLS"):
        windows.document(settings, PasswordCredential(f"d-6@{settings.realm}", "pw", EapMethod.PEAP))


def test_provisioning_link() -> None:
    url = "https://portal.tsunagaru.test/enrol/p/AbC123-_x/windows.xml"
    assert windows.provisioning_link(url) == "ms-settings:wifi-provisioning?uri=" + url
    for bad in ("http://portal.test/p/x.xml", "https://portal.test/p.xml?token=1", "https://portal.test/p#x",
                "https://user@portal.test/p", "https://portal.test/p q", "javascript:alert(1)"):
        with pytest.raises(ProfileError):
            windows.provisioning_link(bad)
