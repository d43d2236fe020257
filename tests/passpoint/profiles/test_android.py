"""Android x-wifi-config: a strict reader of AOSP's rules must accept AOSP's valid samples, refuse its
invalid ones the way AOSP's own tests expect (ConfigParserTest, PpsMoParserTest), and accept ours."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes

from tests.passpoint.profiles import aosp
from tests.passpoint.profiles.conftest import NOW, SPECS
from tsunagaru.passpoint.profiles import android
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    EapMethod,
    InnerMethod,
    PasswordCredential,
    ProfileError,
    ProfileSettings,
)

ASSETS = SPECS / "android" / "framework" / "tests" / "assets"
WIFI = "application/x-wifi-config"


def _asset(name: str) -> bytes:
    path = ASSETS / name
    assert path.exists(), f"AOSP sample {path} is missing"
    return path.read_bytes()


def test_aosp_hsr1_sample_parses_like_configparsertest() -> None:
    parsed = aosp.parse(WIFI, _asset("hsr1/HSR1ProfileWithCACert.base64"))
    home, cred = parsed["pps"]["HomeSP"], parsed["pps"]["Credential"]
    assert home["FQDN"] == "hotspot.example.net" and home["FriendlyName"] == "Example Network"
    assert home["RoamingConsortiumOI"] == [0x112233, 0x445566]
    assert cred["Realm"] == "example.com" and aosp.password(parsed) == "password"
    assert cred["UsernamePassword"]["EAPMethod"] == {"EAPType": 21, "InnerMethod": "MS-CHAP-V2"}
    assert parsed["ca"] is not None
    # SAMPLES.md: a parser fixture with three credential types at once, which validate() refuses
    with pytest.raises(aosp.Refused, match="exactly one credential type"):
        aosp.validate(parsed)


def test_update_identifier_is_dropped_like_configparsertest() -> None:
    parsed = aosp.parse(WIFI, _asset("hsr1/HSR1ProfileWithUpdateIdentifier.base64"))
    assert "UpdateIdentifier" not in parsed["pps"]
    assert parsed["pps"] == aosp.parse(WIFI, _asset("hsr1/HSR1ProfileWithCACert.base64"))["pps"]


@pytest.mark.parametrize("name,reason", [
    ("HSR1ProfileWithInvalidContentType.base64", "unexpected content type"),
    ("HSR1ProfileWithoutProfile.base64", "missing Passpoint profile"),
    ("HSR1ProfileWithMissingBoundary.base64", "no closing boundary"),
    ("HSR1ProfileWithNonBase64Part.base64", "unexpected encoding"),
])
def test_aosp_invalid_configs_are_refused(name: str, reason: str) -> None:
    with pytest.raises(aosp.Refused, match=reason):
        aosp.parse(WIFI, _asset(f"hsr1/{name}"))


def test_wrong_mime_type_is_refused() -> None:
    with pytest.raises(aosp.Refused, match="MIME type"):
        aosp.parse("application/octet-stream", _asset("hsr1/HSR1ProfileWithCACert.base64"))


def test_aosp_full_pps_tree_parses_like_ppsmoparsertest() -> None:
    pps = aosp.parse_pps(_asset("pps/PerProviderSubscription.xml").decode())
    assert pps["UpdateIdentifier"] == 12
    assert pps["Extension"]["Android"]["AAAServerTrustedNames"] == ["trusted.fqdn.com", "another-trusted.fqdn.com"]
    assert pps["Extension"]["WBA"]["NAI"]["DecoratedPrefix"] == "androidwifi.dev!"
    assert pps["HomeSP"]["FQDN"] == "mi6.co.uk" and pps["Credential"]["UsernamePassword"]["Username"] == "james"
    partners = pps["Policy"]["PreferredRoamingPartnerList"]
    assert [p["FQDN_Match"] for p in partners] == [("test1.fqdn.com", True), ("test2.fqdn.com", False)]


@pytest.mark.parametrize("name", ["DuplicateHomeSP", "DuplicateValue", "MissingValue", "MissingName",
                                  "InvalidNode", "InvalidName"])
def test_aosp_invalid_pps_trees_are_refused(name: str) -> None:
    with pytest.raises(aosp.Refused):
        aosp.parse_pps(_asset(f"pps/PerProviderSubscription_{name}.xml").decode())


@pytest.mark.parametrize("inner", [InnerMethod.MSCHAPV2, InnerMethod.PAP])
def test_our_ttls_profile_is_accepted(settings: ProfileSettings, ttls: PasswordCredential,
                                      inner: InnerMethod) -> None:
    credential = PasswordCredential(ttls.username, ttls.password, EapMethod.TTLS, inner, ttls.expires_at)
    profile = android.build(settings, credential, now=NOW)
    assert profile.content_type == WIFI
    parsed = aosp.parse(profile.content_type, profile.data)
    aosp.validate(parsed)
    home, cred = parsed["pps"]["HomeSP"], parsed["pps"]["Credential"]
    assert home == {"FriendlyName": settings.friendly_name, "FQDN": settings.home_fqdn,
                    "RoamingConsortiumOI": [0x5A03BA0000, 0x004096]}
    assert cred["Realm"] == settings.realm and aosp.password(parsed) == ttls.password
    assert cred["UsernamePassword"]["Username"] == ttls.username
    assert cred["UsernamePassword"]["EAPMethod"]["InnerMethod"] == {"MSCHAPv2": "MS-CHAP-V2", "PAP": "PAP"}[inner]
    assert cred["CreationDate"] == NOW.replace(tzinfo=None)
    assert cred["ExpirationDate"] == ttls.expires_at.replace(tzinfo=None)  # type: ignore[union-attr]
    assert parsed["pps"]["Extension"]["Android"]["AAAServerTrustedNames"] == [settings.realm]
    assert parsed["ca"] == settings.ca_certificates[0]


def test_our_tls_profile_is_accepted(settings: ProfileSettings, tls: CertificateCredential) -> None:
    parsed = aosp.parse(WIFI, android.build(settings, tls, now=NOW).data)
    aosp.validate(parsed)
    fingerprint = parsed["pps"]["Credential"]["DigitalCertificate"]["CertSHA256Fingerprint"]
    assert fingerprint == tls.certificate.fingerprint(hashes.SHA256())
    key, chain = parsed["pkcs12"]
    assert chain[0] == tls.certificate and key is not None


def test_peap_is_refused_for_android(settings: ProfileSettings) -> None:
    with pytest.raises(ProfileError, match="not PEAP"):
        android.build(settings, PasswordCredential(f"d-1@{settings.realm}", "pw", EapMethod.PEAP), now=NOW)


def _rewrap(profile: bytes, old: bytes, new: bytes) -> bytes:
    """Change the PPS MO inside an x-wifi-config (decode both layers, replace, encode again)."""
    outer = base64.b64decode(profile).decode()
    head, _, rest = outer.partition("application/x-passpoint-profile; charset=UTF-8\nContent-Transfer-Encoding: "
                                    "base64\n\n")
    body, _, tail = rest.partition("\n--")
    xml = base64.b64decode(body).replace(old, new)
    rebuilt = head + "application/x-passpoint-profile; charset=UTF-8\nContent-Transfer-Encoding: base64\n\n" + \
        base64.b64encode(xml).decode() + "\n--" + tail
    return base64.b64encode(rebuilt.encode())


@pytest.mark.parametrize("old,new,reason", [
    (b"<NodeName>FQDN</NodeName>", b"<NodeName>FQDNs</NodeName>", "unknown node under HomeSP"),
    (b"<NodeName>Realm</NodeName>", b"<NodeName>realm</NodeName>", "unknown node under Credential"),
    (b"T12:00:00Z", b" 12:00:00", "badly formatted time"),
    (b"<Value>21</Value>", b"<Value>25</Value>", "EAPType 21"),
])
def test_the_checker_refuses_what_android_would(settings: ProfileSettings, ttls: PasswordCredential, old: bytes,
                                                new: bytes, reason: str) -> None:
    data = _rewrap(android.build(settings, ttls, now=NOW).data, old, new)
    with pytest.raises(aosp.Refused, match=reason):
        aosp.validate(aosp.parse(WIFI, data))


def test_pps_mo_is_plain_ddf(settings: ProfileSettings, ttls: PasswordCredential, tmp_path: Path) -> None:
    xml = android.pps_mo(settings, ttls, now=NOW)
    assert xml.startswith(b'<MgmtTree xmlns="syncml:dmddf1.2">') and ttls.password.encode() not in xml
