"""The portal's entry point hands each platform its format and refuses methods a platform lacks."""

from __future__ import annotations

import plistlib

import pytest

from tests.passpoint.profiles import aosp
from tests.passpoint.profiles.conftest import NOW, ProfilePki
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    EapMethod,
    PasswordCredential,
    ProfileError,
    ProfileSettings,
)
from tsunagaru.passpoint.profiles.platforms import build_profile, supported_methods


@pytest.mark.parametrize("platform,content_type", [
    ("ios", "application/x-apple-aspen-config"), ("macos", "application/x-apple-aspen-config"),
    ("android", "application/x-wifi-config"), ("windows", "application/xml"),
    ("wpa_supplicant", "text/plain; charset=utf-8"),
])
def test_each_platform_gets_its_format(pki: ProfilePki, settings: ProfileSettings, ttls: PasswordCredential,
                                       platform: str, content_type: str) -> None:
    profile = build_profile(platform, settings, ttls, now=NOW, signer=pki.signer)
    assert profile.content_type == content_type and profile.data


def test_apple_tls_profile_has_a_p12_password(settings: ProfileSettings, tls: CertificateCredential) -> None:
    plist = plistlib.loads(build_profile("ios", settings, tls, now=NOW).data)
    (identity,) = [p for p in plist["PayloadContent"] if p["PayloadType"] == "com.apple.security.pkcs12"]
    assert len(identity["Password"]) >= 16


def test_android_tls(settings: ProfileSettings, tls: CertificateCredential) -> None:
    parsed = aosp.parse(aosp.WIFI_CONFIG, build_profile("android", settings, tls, now=NOW).data)
    aosp.validate(parsed)


def test_methods_and_platforms_refused(pki: ProfilePki, settings: ProfileSettings, tls: CertificateCredential,
                                       ttls: PasswordCredential) -> None:
    assert EapMethod.PEAP not in supported_methods("android")
    assert supported_methods("windows") == {EapMethod.TTLS}
    with pytest.raises(ProfileError, match="windows profiles do not take tls"):
        build_profile("windows", settings, tls, now=NOW, signer=pki.signer)
    with pytest.raises(ProfileError, match="signed"):
        build_profile("windows", settings, ttls, now=NOW)
    with pytest.raises(ProfileError, match="unknown platform"):
        build_profile("symbian", settings, ttls, now=NOW)
    peap = PasswordCredential(ttls.username, "pw", EapMethod.PEAP)
    with pytest.raises(ProfileError, match="android profiles do not take peap"):
        build_profile("android", settings, peap, now=NOW)
