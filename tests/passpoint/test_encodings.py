"""Venue table, NAI realm syntax (both ways) and the other ANQP values in hostapd's syntax."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.passpoint.anqp import (
    AnqpError,
    ConnCapability,
    Ipv4Availability,
    Ipv6Availability,
    LangText,
    WanMetrics,
    ipaddr_type_hostapd,
    parse_lang_text,
)
from tsunagaru.passpoint.nai_realm import (
    METHODS,
    EapOffer,
    NaiRealm,
    NaiRealmError,
    method_problems,
    offered,
    parse_nai_realm,
)
from tsunagaru.passpoint.venues import CATEGORY_VENUES, VENUE_GROUPS, VENUE_TYPES, SiteCategory, Venue, VenueError


def test_hostapd_example_realm_syntax() -> None:
    entry = NaiRealm(("example.org",), offered(("tls", "ttls-mschapv2")))
    assert entry.hostapd() == "0,example.org,13[5:6],21[2:4][5:7]"  # hostapd.conf's own example
    assert parse_nai_realm(entry.hostapd()) == entry
    assert parse_nai_realm("0,example.com;example.net") == NaiRealm(("example.com", "example.net"), ())


def test_every_offered_method_is_what_phones_match() -> None:
    assert {n: m.hostapd() for n, m in METHODS.items()} == {
        "tls": "13[5:6]", "ttls-pap": "21[2:1][5:7]", "ttls-mschapv2": "21[2:4][5:7]", "peap-mschapv2": "25[3:26][5:7]"}
    assert all(method_problems(m) == [] for m in METHODS.values())


@pytest.mark.parametrize(("text", "problem"), [
    ("13", "certificate"), ("13[5:7]", "certificate"), ("21[5:7]", "inner method"), ("21[2:9][5:7]", "not PAP"),
    ("25[2:4][5:7]", "EAP inner"), ("21[2:4]", "credential type"),
])
def test_wrong_eap_parameters(text: str, problem: str) -> None:
    offer = parse_nai_realm(f"0,example.org,{text}").methods[0]
    assert any(problem in p for p in method_problems(offer))


@pytest.mark.parametrize("text", ["", "2,example.org", "0", "0,example.org,13[5]", "0,exa mple.org,13[5:6]",
                                  "0,example.org,999", "0,a;b;c;d;e;f;g;h;i;j;k,13[5:6]"])
def test_malformed_realms(text: str) -> None:
    with pytest.raises(NaiRealmError):
        parse_nai_realm(text)


@given(st.text(max_size=60))
def test_realm_parser_only_raises_its_error(text: str) -> None:
    with contextlib.suppress(NaiRealmError):
        parse_nai_realm(text)


def test_unknown_method_name_is_named() -> None:
    with pytest.raises(NaiRealmError, match="'eap-md5'"):
        offered(("tls", "eap-md5"))


def test_venue_table() -> None:
    assert VENUE_TYPES[(1, 7)][0] == "Convention Center" and VENUE_TYPES[(11, 2)][1] == "公園"
    assert set(g for g, _ in VENUE_TYPES) == set(VENUE_GROUPS)
    assert all(g != 2 or t != 5 for g, t in VENUE_TYPES)  # 2,5 is reserved
    assert set(CATEGORY_VENUES) == set(SiteCategory)
    assert Venue(11, 6).name_en == "Kiosk"
    with pytest.raises(VenueError):
        Venue(12, 0)
    with pytest.raises(VenueError):
        Venue(2, 5)


def test_other_values() -> None:
    assert LangText("jpn", "新宿区役所").hostapd() == "jpn:新宿区役所"
    assert parse_lang_text("eng:Example venue") == LangText("eng", "Example venue")
    for bad in ("Example venue", "english:x", "JPN:x", "eng:"):
        with pytest.raises(AnqpError):
            parse_lang_text(bad)
    assert ipaddr_type_hostapd(Ipv4Availability.SINGLE_NAT, Ipv6Availability.NOT_AVAILABLE) == "0c"
    assert ipaddr_type_hostapd(Ipv4Availability.PUBLIC, Ipv6Availability.AVAILABLE) == "05"
    assert WanMetrics(1, False, False, 8000, 1000, 80, 240, 3000).hostapd() == "01:8000:1000:80:240:3000"
    assert ConnCapability(6, 443).hostapd() == "6:443:1"
    with pytest.raises(AnqpError):
        ConnCapability(6, 70000)
    assert EapOffer(13, ((5, 6),)).param(5) == 6
