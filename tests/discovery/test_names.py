"""Validation of realms and DNS-derived names and ports (CVE-2021-32642 was injection through DNS)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.discovery import (
    InvalidName,
    InvalidRealm,
    rewrite_3gpp,
    safe_text,
    validate_host,
    validate_port,
    validate_realm,
    validate_service_name,
)


@pytest.mark.parametrize(("value", "expected"), [
    ("idp.example.", "idp.example"),
    ("IdP.Example", "idp.example"),
    ("a-b.c1.example", "a-b.c1.example"),
    ("localhost", "localhost"),
    ("xn--r8jz45g.jp.", "xn--r8jz45g.jp"),
    ("a" * 63 + ".example", "a" * 63 + ".example"),
])
def test_hosts_accepted(value: str, expected: str) -> None:
    assert validate_host(value) == expected


@pytest.mark.parametrize(("value", "reason"), [
    ("ev}il.example.", "character '}'"),
    ("evil{.example", "character '{'"),
    ('ev"il.example', "character '\"'"),
    ("ev'il.example", "character \"'\""),
    ("evil.example\n", "character '\\n'"),
    ("evil.example.\nserver x", "character '\\n'"),
    ("evil example", "character ' '"),
    ("evil\texample", "character '\\t'"),
    ("evil\x00.example", "character '\\x00'"),
    ("evil\x1b[31m.example", "character '\\x1b'"),
    ("ev\\\"il.example", "character '\\\\'"),
    ("evil.example;rm", "character ';'"),
    ("évil.example", "character 'é'"),
    ("idp.example..", "empty label"),
    (".idp.example", "empty label"),
    ("idp..example", "empty label"),
    ("", "empty host name"),
    (".", "empty host name"),
    ("-idp.example", "must start and end"),
    ("idp-.example", "must start and end"),
    ("_radsec._tcp.idp.example", "character '_'"),
    ("127.0.0.1", "all digits"),
    ("a" * 64 + ".example", "label of 64 characters"),
    (".".join(["a" * 63] * 4), "characters long"),
    (b"idp.example", "must be text"),
])
def test_hosts_refused_with_reason(value: object, reason: str) -> None:
    with pytest.raises(InvalidName) as caught:
        validate_host(value)
    assert reason in caught.value.reason
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


def test_service_names() -> None:
    assert validate_service_name("_radsec._tcp.IDP.example.") == "_radsec._tcp.idp.example"
    assert validate_service_name("srv.idp.example") == "srv.idp.example"
    for bad in ("_radsec._tcp", "_radsec._tcp.", "a._tcp.idp.example", "_radsec._tcp.ev}il.example",
                "__x.example", "_-x.example", "_radsec._tcp.idp.example.\n"):
        with pytest.raises(InvalidName):
            validate_service_name(bad)


@pytest.mark.parametrize("port", [1, 2083, 20830, 65535])
def test_ports_accepted(port: int) -> None:
    assert validate_port(port) == port


@pytest.mark.parametrize("port", [0, -1, 65536, True, "2083", 2083.0, None])
def test_ports_refused(port: object) -> None:
    with pytest.raises(InvalidName):
        validate_port(port)


@pytest.mark.parametrize(("value", "expected"), [
    ("idp.tsunagaru.test", "idp.tsunagaru.test"),
    ("Example.COM", "example.com"),
    ("wlan.mnc001.mcc440.3gppnetwork.org", "wlan.mnc001.mcc440.3gppnetwork.org"),
])
def test_realms_accepted(value: str, expected: str) -> None:
    assert validate_realm(value) == expected


@pytest.mark.parametrize(("value", "reason"), [
    ("example", "at least two labels"),
    ("idp.example.", "no trailing dot"),
    ("alice@idp.example", "character '@'"),
    ("idp.exämple", "A-label"),
    ("idp..example", "empty label"),
    ("-idp.example", "must start and end"),
    ("_radsec.idp.example", "character '_'"),
    ("idp.example{x}", "character '{'"),
    ("", "empty realm"),
])
def test_realms_refused(value: str, reason: str) -> None:
    with pytest.raises(InvalidRealm) as caught:
        validate_realm(value)
    assert reason in caught.value.reason


def test_3gpp_rewrite() -> None:
    assert rewrite_3gpp("wlan.mnc001.mcc440.3gppnetwork.org") == "wlan.mnc001.mcc440.pub.3gppnetwork.org"
    assert rewrite_3gpp("WLAN.MNC010.MCC440.3GPPNETWORK.ORG") == "wlan.mnc010.mcc440.pub.3gppnetwork.org"
    for other in ("wlan.mnc001.mcc440.pub.3gppnetwork.org", "ims.mnc001.mcc440.3gppnetwork.org",
                  "wlan.mnc01.mcc440.3gppnetwork.org", "x.wlan.mnc001.mcc440.3gppnetwork.org",
                  "idp.example"):
        assert rewrite_3gpp(other) is None


def test_safe_text_escapes_terminal_controls() -> None:
    shown = safe_text("a\x1b[2Jb\nc\u202e")
    assert "\x1b" not in shown and "\n" not in shown and "\u202e" not in shown
    assert len(safe_text("x" * 500)) < 100


# -- properties ---------------------------------------------------------------------------------------

LDH_LABEL = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,20}[a-zA-Z0-9])?", fullmatch=True)
TOP_LABEL = st.from_regex(r"[a-zA-Z]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True)
HOSTS = st.builds(lambda labels, top: ".".join([*labels, top]), st.lists(LDH_LABEL, max_size=5), TOP_LABEL)


@given(HOSTS, st.booleans())
def test_valid_hosts_are_accepted_and_canonical(host: str, final_dot: bool) -> None:
    canonical = validate_host(host + ("." if final_dot else ""))
    assert canonical == host.lower()
    assert validate_host(canonical) == canonical


@given(st.text(max_size=300))
def test_any_text_is_refused_or_canonical(text: str) -> None:
    """Whatever DNS sends: either a typed refusal or a canonical LDH name -- nothing else gets out."""
    for check in (validate_host, validate_service_name):
        try:
            name = check(text)
        except InvalidName as error:
            assert error.reason
            continue
        assert re.fullmatch(r"[a-z0-9._-]{1,253}", name)
        assert all(1 <= len(label) <= 63 for label in name.split("."))
        assert check(name) == name


FORBIDDEN = st.sampled_from([*list(" \t\r\n\x00\x07\x1b\"'{}[]();,<>\\/@$`|&*?=!#%+:~^"), "é", "\u202e"])


@given(HOSTS, FORBIDDEN, st.integers(min_value=0, max_value=300))
def test_a_forbidden_character_anywhere_is_refused(host: str, bad: str, where: int) -> None:
    where = where % (len(host) + 1)
    with pytest.raises(InvalidName) as caught:
        validate_host(host[:where] + bad + host[where:])
    assert "not allowed" in caught.value.reason


@given(st.integers())
def test_ports(port: int) -> None:
    if 1 <= port <= 65535:
        assert validate_port(port) == port
    else:
        with pytest.raises(InvalidName):
            validate_port(port)


@given(st.lists(LDH_LABEL, min_size=1, max_size=4), TOP_LABEL)
def test_valid_realms_are_accepted(labels: list[str], top: str) -> None:
    realm = ".".join([*labels, top])
    assert validate_realm(realm) == realm.lower()


@given(st.text(max_size=300))
def test_any_text_is_a_realm_or_refused(text: str) -> None:
    try:
        realm = validate_realm(text)
    except InvalidRealm as error:
        assert error.reason
    else:
        assert re.fullmatch(r"[a-z0-9.-]{3,253}", realm) and "." in realm
