"""The linter on configs with each silent failure (mutations of a golden file), on our own output and on
third-party examples."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.passpoint.goldens import GOLDEN
from tsunagaru.passpoint.lint import lint_hostapd
from tsunagaru.passpoint.lint_rules import RULES

GOOD = (GOLDEN / "city-facility-disaster.radio0.conf").read_text(encoding="utf-8")
DEBIAN_EXAMPLE = Path("/usr/share/doc/hostapd/examples/hostapd.conf")


def edit(text: str, *changes: tuple[str, str | None]) -> str:
    """Replace the first line starting with each key= (None deletes it)."""
    lines = text.splitlines()
    for prefix, new in changes:
        i = next(n for n, line in enumerate(lines) if line.startswith(prefix))
        if new is None:
            del lines[i]
        else:
            lines[i] = new
    return "\n".join(lines) + "\n"


def codes(text: str) -> set[str]:
    return {f.code for f in lint_hostapd(text).findings}


def test_golden_files_are_clean() -> None:
    for path in sorted(GOLDEN.glob("*.conf")):
        assert lint_hostapd(path.read_text(encoding="utf-8")).findings == [], path.name


def test_debian_example_is_clean_of_errors() -> None:
    assert DEBIAN_EXAMPLE.exists(), "Debian's hostapd package (its example hostapd.conf) is needed"
    assert lint_hostapd(DEBIAN_EXAMPLE.read_text(encoding="utf-8")).errors == []


def test_debian_example_with_its_passpoint_lines_enabled() -> None:
    """Uncomment the example's 802.11u/HS2.0 lines (as an operator copying it would) on its open BSS."""
    text = DEBIAN_EXAMPLE.read_text(encoding="utf-8")
    keys = ("interworking=", "hs20=", "roaming_consortium=", "nai_realm=0,example.org", "domain_name=",
            "venue_group=", "venue_type=", "venue_name=eng", "venue_url=")
    enabled = "\n".join(line[1:] if line.startswith("#") and line[1:].startswith(keys) else line
                        for line in text.splitlines())
    found = codes(enabled)
    assert {"PP015", "PP014", "PP033"} <= found  # open BSS; example OIs; http venue URLs
    assert "PP001" not in found


MUTATIONS = [
    ("interworking off with RCOIs", [("interworking=", "interworking=0")], "PP010"),
    ("hs20 off with RCOIs", [("hs20=", None)], "PP011"),
    ("malformed RCOI", [("roaming_consortium=5A03BA0000", "roaming_consortium=5A03BA00Z0")], "PP012"),
    ("OpenRoaming RCOI fourth", [("roaming_consortium=5A03BA0000", "roaming_consortium=001122\nroaming_consortium="
                                  "223344\nroaming_consortium=556677\nroaming_consortium=5A03BA0000"),
                                 ("roaming_consortium=004096", None)], "PP013"),
    ("no nai_realm", [("nai_realm=", None)], "PP020"),
    ("nai_realm without methods", [("nai_realm=", "nai_realm=0,idp.tsunagaru.test")], "PP020"),
    ("TLS without certificate", [("nai_realm=", "nai_realm=0,idp.tsunagaru.test,13[5:7]")], "PP022"),
    ("TTLS without inner", [("nai_realm=", "nai_realm=0,idp.tsunagaru.test,21[5:7]")], "PP022"),
    ("nai_realm syntax", [("nai_realm=", "nai_realm=idp.tsunagaru.test,13[5:6]")], "PP021"),
    ("no domain_name", [("domain_name=", None)], "PP023"),
    ("asra with RSN", [("asra=", "asra=1")], "PP030"),
    ("venue group out of range", [("venue_group=", "venue_group=12")], "PP031"),
    ("venue type reserved", [("venue_group=", "venue_group=2"), ("venue_type=", "venue_type=5")], "PP031"),
    ("venue name without language", [("venue_name=jpn:", "venue_name=東京都庁第一本庁舎")], "PP032"),
    ("friendly name without language", [("hs20_oper_friendly_name=eng", "hs20_oper_friendly_name=Tsunagaru")],
     "PP032"),
    ("venue url http", [("venue_url=1:", "venue_url=1:http://www.metro.tokyo.lg.jp/")], "PP033"),
    ("venue url without its name", [("venue_url=2:", "venue_url=3:https://www.metro.tokyo.lg.jp/english/")], "PP034"),
    ("bad hessid", [("hessid=", "hessid=02:00:5e:20:01")], "PP041"),
    ("no CUI request", [("radius_request_cui=", None)], "PP050"),
    ("no Operator-Name", [("radius_auth_req_attr=", None)], "PP051"),
    ("Operator-Name without namespace", [("radius_auth_req_attr=", "radius_auth_req_attr=126:s:TSUNAGARU:JP")],
     "PP051"),
    ("DAS without Message-Authenticator", [("radius_request_cui=", "radius_request_cui=1\nradius_das_port=3799\n"
                                            "radius_das_client=192.0.2.1 a-long-das-secret-value")], "PP052"),
    ("default secret off loopback", [("auth_server_addr=", "auth_server_addr=192.0.2.10"),
                                     ("auth_server_shared_secret=", "auth_server_shared_secret=testing123")], "PP053"),
    ("short secret off loopback", [("acct_server_addr=", "acct_server_addr=192.0.2.10"),
                                   ("acct_server_shared_secret=", "acct_server_shared_secret=short")], "PP053"),
    ("PMF off with WPA3", [("ieee80211w=", "ieee80211w=0")], "PP060"),
    ("WPA3-only without PMF required", [("wpa_key_mgmt=", "wpa_key_mgmt=WPA-EAP-SHA256")], "PP060"),
    ("00000JAPAN with a PSK", [("wpa=0", "wpa=2\nwpa_key_mgmt=WPA-PSK\nwpa_passphrase=disaster-password")],
     "PP070"),
    ("00000JAPAN without isolation", [("ap_isolate=", None)], "PP072"),
    ("duplicate nas_identifier", [("wpa=0", "wpa=0\nnas_identifier=ap-13000-0101-01-radio0")], "PP080"),
    ("unknown key", [("hs20=", "hs20=1\nhs20_bogus=1")], "PP001"),
    ("not key=value", [("hs20=", "hs20=1\nhs20")], "PP002"),
    ("proxy_arp without bridge", [("bridge=br-lan", None)], "PP090"),
    ("hs20 on an open BSS", [("wpa=2", "wpa=0")], "PP015"),
]


@pytest.mark.parametrize(("what", "changes", "code"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_each_silent_failure_is_found(what: str, changes: list[tuple[str, str | None]], code: str) -> None:
    report = lint_hostapd(edit(GOOD, *changes))
    assert code in {f.code for f in report.findings}, [f.text() for f in report.findings]
    finding = next(f for f in report.findings if f.code == code)
    assert finding.line > 0 and finding.message and finding.rule.source


def test_disaster_bss_first_and_hessid_mismatch() -> None:
    radio, _, rest = GOOD.partition("\nbssid=02:00:5e:20:01:00")
    first, _, second = rest.partition("\nbss=")
    swapped = radio + "\n" + second.split("\n", 1)[1] + "\nbss=wlan0-0\nbssid=02:00:5e:20:01:00" + first
    assert "PP071" in codes(swapped)
    two = GOOD + "\nbss=wlan0-9\n" + edit(first, ("hessid=", "hessid=02:00:5e:99:99:99"),
                                          ("nas_identifier=", "nas_identifier=other")).lstrip("\n")
    assert "PP040" in codes(two)


def test_every_finding_is_collected_and_lines_are_hostapds() -> None:
    text = "interface=wlan0\nfoo=1\nbar\nhs20=1\nroaming_consortium=ZZ\n"
    report = lint_hostapd(text)
    assert {(2, "PP001"), (3, "PP002"), (4, "PP015"), (5, "PP012")} <= set(report.flat())


def test_every_rule_is_documented_with_a_source() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "passpoint.md").read_text(encoding="utf-8")
    for code, rule in RULES.items():
        assert rule.source and code in doc and rule.name in doc


def test_lines_are_read_as_hostapd_reads_them() -> None:
    """hostapd 2.10 calls a line of spaces and an indented comment invalid lines (checked by hand)."""
    report = lint_hostapd("interface=wlan0\n  \n  # indented\n#fine\n\nssid=x\n")
    assert report.flat() == [(2, "PP002"), (3, "PP002")]


@given(st.text(alphabet=st.sampled_from("ab=#\n :,[]0123456789hs2_ssidroamingconsortiumnai_realm"), max_size=300))
def test_linter_never_raises(text: str) -> None:
    report = lint_hostapd(text)
    assert all(f.line >= 0 and f.message for f in report.findings)


def test_findings_are_bounded() -> None:
    report = lint_hostapd("interface=wlan0\n" + "x\n" * 5000)
    assert len(report.findings) == 1000 and report.partial
