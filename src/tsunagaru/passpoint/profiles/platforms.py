"""One entry point for the portal: the profile for a platform of the demo contract
(``ios``, ``macos``, ``android``, ``windows``, ``wpa_supplicant``) and which methods each one takes.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from tsunagaru.passpoint.profiles import android, apple, windows, wpa_supplicant
from tsunagaru.passpoint.profiles.model import (
    DeviceCredential,
    EapMethod,
    Profile,
    ProfileError,
    ProfileSettings,
    SigningIdentity,
)


class Platform(StrEnum):
    IOS = "ios"
    MACOS = "macos"
    ANDROID = "android"
    WINDOWS = "windows"
    WPA_SUPPLICANT = "wpa_supplicant"


METHODS: dict[Platform, frozenset[EapMethod]] = {
    Platform.IOS: frozenset(EapMethod),
    Platform.MACOS: frozenset(EapMethod),
    Platform.ANDROID: frozenset({EapMethod.TTLS, EapMethod.TLS}),  # Android Passpoint has no PEAP
    Platform.WINDOWS: frozenset({EapMethod.TTLS}),  # web provisioning: username/password only
    Platform.WPA_SUPPLICANT: frozenset(EapMethod),
}


def supported_methods(platform: Platform | str) -> frozenset[EapMethod]:
    return METHODS[_platform(platform)]


def _platform(platform: Platform | str) -> Platform:
    try:
        return Platform(platform)
    except ValueError:
        raise ProfileError(f"unknown platform {platform!r}") from None


def build_profile(
    platform: Platform | str,
    settings: ProfileSettings,
    credential: DeviceCredential,
    *,
    now: datetime,
    signer: SigningIdentity | None = None,
) -> Profile:
    """The profile file for ``platform`` (bytes, Content-Type, file name).

    Apple profiles are CMS-signed when ``signer`` is given; Windows needs ``signer`` (an RSA key whose
    certificate chains to a root Windows trusts). Raises ProfileError for a method the platform lacks.
    """
    chosen = _platform(platform)
    if credential.method not in METHODS[chosen]:
        raise ProfileError(f"{chosen.value} profiles do not take {credential.method.value}")
    if chosen in (Platform.IOS, Platform.MACOS):
        # the PKCS#12 password travels in the same profile; Apple only insists that there is one
        return apple.build(settings, credential, signer, p12_password=secrets.token_urlsafe(12))
    if chosen is Platform.ANDROID:
        return android.build(settings, credential, now=now)
    if chosen is Platform.WINDOWS:
        if signer is None:
            raise ProfileError("Windows installs signed provisioning files only")
        return windows.build(settings, credential, signer)
    return wpa_supplicant.bundle(settings, credential)
