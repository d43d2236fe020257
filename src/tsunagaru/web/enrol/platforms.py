"""Which profile a device wants, from its User-Agent (ua-parser), and the order offers are shown in.

ua-parser (the uap-core regexes) is used rather than hand-written matching because User-Agent strings are
a moving target; it only suggests the first offer, and the person can always pick another.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import ua_parser


class Platform(StrEnum):
    IOS = "ios"
    MACOS = "macos"
    ANDROID = "android"
    WINDOWS = "windows"
    WPA_SUPPLICANT = "wpa_supplicant"


class Method(StrEnum):
    TTLS = "ttls"  # a username and password per device (EAP-TTLS or PEAP, MSCHAPv2 inside)
    TLS = "tls"  # a client certificate from the IdP's user CA


@dataclass(frozen=True, slots=True)
class ProfileKind:
    content_type: str
    extension: str
    methods: tuple[Method, ...]


# Windows' CarrierProvisioning takes EAP-TTLS only (no client certificates in the profile).
KINDS: dict[Platform, ProfileKind] = {
    Platform.IOS: ProfileKind("application/x-apple-aspen-config", "mobileconfig", (Method.TTLS, Method.TLS)),
    Platform.MACOS: ProfileKind("application/x-apple-aspen-config", "mobileconfig", (Method.TTLS, Method.TLS)),
    Platform.ANDROID: ProfileKind("application/x-wifi-config", "config", (Method.TTLS, Method.TLS)),
    Platform.WINDOWS: ProfileKind("application/xml", "xml", (Method.TTLS,)),
    Platform.WPA_SUPPLICANT: ProfileKind("text/plain; charset=utf-8", "conf", (Method.TTLS, Method.TLS)),
}

_BY_OS = {"iOS": Platform.IOS, "iPadOS": Platform.IOS, "Mac OS X": Platform.MACOS, "macOS": Platform.MACOS,
          "Android": Platform.ANDROID, "Windows": Platform.WINDOWS}
MAX_UA = 1024


def detect(user_agent: str | None) -> Platform | None:
    """The platform a browser runs on, or None (Linux and the unknown get no guess)."""
    if not user_agent:
        return None
    parsed = ua_parser.parse_os(user_agent[:MAX_UA])
    return None if parsed is None else _BY_OS.get(parsed.family)


def offers(detected: Platform | None) -> list[Platform]:
    """Every platform, the detected one first."""
    rest = [p for p in Platform if p is not detected]
    return rest if detected is None else [detected, *rest]


def parse_platform(text: str) -> Platform | None:
    try:
        return Platform(text)
    except ValueError:
        return None


def parse_method(text: str) -> Method | None:
    try:
        return Method(text)
    except ValueError:
        return None
