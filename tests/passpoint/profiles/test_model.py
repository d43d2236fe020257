"""Settings and credentials: bad input is a ProfileError with a reason, never a broken profile; any
text that passes the checks survives every builder (hypothesis)."""

from __future__ import annotations

import plistlib
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from lxml import etree

from tests.passpoint.profiles import aosp
from tests.passpoint.profiles.apple_schema import check_profile
from tests.passpoint.profiles.conftest import NOW, REALM, ProfilePki, settings_for
from tsunagaru.passpoint.profiles import android, apple, windows
from tsunagaru.passpoint.profiles import wpa_supplicant as wpas
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    EapMethod,
    FriendlyName,
    InnerMethod,
    PasswordCredential,
    ProfileError,
    ProfileSettings,
    check_credential,
    check_rcoi,
)


@pytest.mark.parametrize("text,expected", [("5a03ba0000", "5A03BA0000"), ("004096", "004096"), (" BAA2D0 ", "BAA2D0")])
def test_rcoi_accepted(text: str, expected: str) -> None:
    assert check_rcoi(text) == expected


@pytest.mark.parametrize("text", ["", "5A03BA000", "5A03BA00000", "5A03BA000000", "5A03BA00ZZ", "0x5A03BA", "5A,03"])
def test_rcoi_refused(text: str) -> None:
    with pytest.raises(ProfileError, match="RCOI"):
        check_rcoi(text)


def test_default_rcois_are_openroamings(settings: ProfileSettings) -> None:
    assert settings.rcois == ("5A03BA0000", "004096")
    assert settings.anonymous_identity == f"anonymous@{REALM}"


def test_a_server_certificate_is_never_a_trust_anchor(pki: ProfilePki) -> None:
    with pytest.raises(ProfileError, match="not a CA certificate"):
        settings_for(pki.server.cert)


@pytest.mark.parametrize("change,reason", [
    ({"realm": "localhost"}, "realm"), ({"realm": "bad_realm.example"}, "realm"),
    ({"home_fqdn": "-x.example"}, "home FQDN"), ({"server_names": ()}, "server names"),
    ({"server_names": ("*.example.com",)}, "server name"), ({"friendly_names": ()}, "friendly name"),
    ({"anonymous_identity": "anonymous@other.example"}, "outer identity"),
    ({"anonymous_identity": "alice smith@idp.tsunagaru.test"}, "outer identity"),
    ({"rcois": ()}, "RCOIs"), ({"rcois": ("5A03BA0000",) * 2 + tuple(f"{i:06X}" for i in range(40))}, "RCOIs"),
    ({"methods": frozenset()}, "method"), ({"tls_min": "1.0"}, "TLS"), ({"tls_min": "1.3", "tls_max": "1.2"}, "TLS"),
    ({"identifier": "not reverse dns"}, "identifier"),
])
def test_bad_settings_are_refused(pki: ProfilePki, change: dict[str, object], reason: str) -> None:
    base: dict[str, object] = {"realm": REALM, "home_fqdn": REALM, "friendly_names": (FriendlyName("en", "T"),),
                               "ca_certificates": (pki.eap_ca.cert,), "server_names": (REALM,)}
    with pytest.raises(ProfileError, match=reason):
        ProfileSettings(**{**base, **change})  # type: ignore[arg-type]


def test_bad_credentials_are_refused(pki: ProfilePki, settings: ProfileSettings,
                                     tls: CertificateCredential) -> None:
    for username in ("alice", "@idp.tsunagaru.test", "a b@idp.tsunagaru.test", "x" * 60 + "@idp.tsunagaru.test"):
        with pytest.raises(ProfileError, match="username"):
            PasswordCredential(username, "pw")
    with pytest.raises(ProfileError, match="password"):
        PasswordCredential(f"a@{REALM}", "")
    with pytest.raises(ProfileError, match="password"):
        PasswordCredential(f"a@{REALM}", "line\nbreak")
    with pytest.raises(ProfileError, match="PEAP carries MSCHAPv2"):
        PasswordCredential(f"a@{REALM}", "pw", EapMethod.PEAP, InnerMethod.PAP)
    with pytest.raises(ProfileError, match="aware"):
        PasswordCredential(f"a@{REALM}", "pw", expires_at=datetime(2030, 1, 1))
    _, other_key = pki.user_ca.issue(f"x@{REALM}", 1, NOW)
    with pytest.raises(ProfileError, match="does not belong"):
        CertificateCredential(tls.username, tls.certificate, other_key)
    with pytest.raises(ProfileError, match="not in realm"):
        check_credential(settings, PasswordCredential("a@other.example", "pw"))
    ttls_only = ProfileSettings(realm=REALM, home_fqdn=REALM, friendly_names=settings.friendly_names,
                                ca_certificates=settings.ca_certificates, server_names=(REALM,),
                                methods=frozenset({EapMethod.TTLS}))
    with pytest.raises(ProfileError, match="not offered"):
        check_credential(ttls_only, tls)


printable = st.text(st.characters(min_codepoint=0x20, exclude_characters="\x7f", exclude_categories=("Cs",)),
                    min_size=1, max_size=60)


@hsettings(max_examples=60, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(password=printable, friendly=printable)
def test_any_accepted_text_survives_every_builder(pki: ProfilePki, password: str, friendly: str) -> None:
    try:
        settings = ProfileSettings(realm=REALM, home_fqdn=REALM, friendly_names=(FriendlyName("en", friendly),),
                                   ca_certificates=(pki.eap_ca.cert,), server_names=(REALM,))
        credential = PasswordCredential(f"d-1@{REALM}", password)
    except ProfileError:
        return
    assert check_profile(plistlib.loads(apple.build(settings, credential, None).data)) == []
    parsed = aosp.parse(aosp.WIFI_CONFIG, android.build(settings, credential, now=NOW).data)
    aosp.validate(parsed)
    assert aosp.password(parsed) == password and parsed["pps"]["HomeSP"]["FriendlyName"] == friendly
    root = etree.fromstring(etree.tostring(windows.document(settings, credential)))
    assert root.findtext(f".//{{{windows.NS_TTLS_USER}}}Password") == password
    block = wpas.network_block(settings, credential, ca_cert=wpas.PurePath("/ca.pem"), wired=True)
    assert _printf_decode(block.split("\tpassword=", 1)[1].split("\n", 1)[0]) == password


def _printf_decode(value: str) -> str:
    """Read a wpa_supplicant string value back (``"text"`` or ``P"..."`` with \\\\, \\" and \\xNN)."""
    if value.startswith('"'):
        return value[1:-1]
    assert value.startswith('P"') and value.endswith('"')
    body, out, i = value[2:-1], bytearray(), 0
    while i < len(body):
        if body[i] == "\\":
            if body[i + 1] == "x":
                out.append(int(body[i + 2:i + 4], 16))
                i += 4
                continue
            out.append(ord(body[i + 1]))
            i += 2
            continue
        out += body[i].encode()
        i += 1
    return out.decode("utf-8")
