"""The BSS plan's rules (00000JAPAN only while on, never first), the description's typed errors, the CLI."""

from __future__ import annotations

import dataclasses
import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.passpoint.goldens import GOLDEN, NOW, description
from tsunagaru.passpoint.description import DescriptionError, parse_description
from tsunagaru.passpoint.model import DISASTER_SSID, DisasterState, ModelError
from tsunagaru.passpoint.plan import BssRole, plan_ap
from tsunagaru.passpoint.render.hostapd import render_hostapd

TSUNAGARU = [sys.executable, "-m", "tsunagaru"]
EXAMPLE = (Path(__file__).parents[2] / "src/tsunagaru/passpoint/example.toml").read_text(encoding="utf-8")


def test_disaster_bss_only_while_on_and_never_first() -> None:
    d = description("phone-booth")
    until = NOW + datetime.timedelta(hours=1)
    on = plan_ap(d.operator, d.site, d.ap, DisasterState(until), NOW)
    off = plan_ap(d.operator, d.site, d.ap, DisasterState(until), until)  # the end time has passed
    for rp in on.radios:
        assert rp.bsses[0].role is BssRole.OPENROAMING
        assert next(b.ssid for b in rp.bsses[1:]) == DISASTER_SSID
        assert rp.bsses[1].security is None and rp.bsses[1].ap_isolate
    assert all(len(rp.bsses) == 1 for rp in off.radios) and off.disaster_until is None
    assert on.radios[0].bsses[0] == off.radios[0].bsses[0]  # the OpenRoaming BSS is untouched


def test_nas_identifiers_are_unique_per_bss_and_site_must_match() -> None:
    d = description("city-facility")
    p = plan_ap(d.operator, d.site, d.ap, DisasterState(), NOW)
    ids = [b.radius.nas_identifier for rp in p.radios for b in rp.bsses if b.radius]
    assert len(ids) == len(set(ids)) == 2
    with pytest.raises(ModelError, match=r"ap\.site_id"):
        plan_ap(d.operator, dataclasses.replace(d.site, id="other"), d.ap, DisasterState(), NOW)


def test_etag_changes_exactly_with_the_disaster_state() -> None:
    d = description("city-facility")
    a = render_hostapd(plan_ap(d.operator, d.site, d.ap, DisasterState(), NOW), d.secrets)
    b = render_hostapd(plan_ap(d.operator, d.site, d.ap, DisasterState(), NOW + datetime.timedelta(days=1)), d.secrets)
    c = render_hostapd(plan_ap(d.operator, d.site, d.ap, d.disaster, NOW), d.secrets)
    assert a == b and a != c


@pytest.mark.parametrize(("old", "new", "field"), [
    ('wbaid = "TSUNAGARU:JP"', 'wbaid = "tsunagaru"', "operator.wbaid"),
    ('rcois = ["5A03BA0000", "004096"]', 'rcois = ["5A03BA0000", "00409"]', "operator.rcois[1]"),
    ('channel = 36', 'channel = "36"', "ap.radios[1].channel"),
    ('category = "municipal-facility"', 'category = "castle"', "site.category"),
    ('url_en = "https://www.city', 'url_en = "http://www.city', "site.url_en"),
    ('methods = ["tls",', 'methods = ["eap-md5",', "operator.realms[0]"),
    ('ssid = "OpenRoaming"', 'ssid = "00000JAPAN"', "operator.ssid"),
    ('until = 2026-12-04T00:00:00Z', 'until = 2026-12-04T00:00:00', "disaster.until"),
    ('bssids = ["02:00:5e:10:00:00"', 'bssids = ["02:00:5E:10:00:00"', "ap.radios[0].bssids[0]"),
    ('[site]', '[sight]', "site"),
    ('interface = "wlan1"', 'interface = "wlan1 x"', "ap.radios[1].interface"),
])
def test_a_bad_description_names_the_field(old: str, new: str, field: str) -> None:
    assert old in EXAMPLE
    with pytest.raises(DescriptionError) as info:
        parse_description(EXAMPLE.replace(old, new, 1))
    assert info.value.field == field


def test_not_toml_is_a_typed_error() -> None:
    with pytest.raises(DescriptionError, match="not valid TOML"):
        parse_description("[operator\n")


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TSUNAGARU, *args], capture_output=True, text=True, input=stdin, timeout=60, check=False)


def test_cli_example_render_lint_round_trip(tmp_path: Path) -> None:
    example = run("passpoint", "example")
    assert example.returncode == 0 and parse_description(example.stdout)
    (tmp_path / "ap.toml").write_text(example.stdout, encoding="utf-8")
    out = run("passpoint", "render", str(tmp_path / "ap.toml"), "--disaster", "--now", "2026-12-01T00:00:00Z",
              "--out", str(tmp_path / "out"))
    assert out.returncode == 0, out.stderr
    conf = tmp_path / "out" / "hostapd-radio0.conf"
    assert conf.stat().st_mode & 0o777 == 0o600
    assert run("passpoint", "lint", str(conf)).returncode == 0
    for fmt in ("openwrt", "json"):
        r = run("passpoint", "render", str(tmp_path / "ap.toml"), "--format", fmt, "--now", "2026-12-01T00:00:00Z")
        assert r.returncode == 0 and r.stdout
    assert json.loads(run("passpoint", "render", str(tmp_path / "ap.toml"), "--format", "json").stdout)["ap_id"]


def test_cli_lint_exit_codes_and_json() -> None:
    bad = run("passpoint", "lint", "-", stdin="interface=wlan0\nhs20=1\nroaming_consortium=5A03BA0000\n")
    assert bad.returncode == 1 and "PP015" in bad.stdout
    js = json.loads(run("passpoint", "lint", "--json", str(GOLDEN / "city-facility.radio0.conf")).stdout)
    assert js["findings"] == []


def test_cli_bad_description_exits_2_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "ap.toml").write_text(EXAMPLE.replace('channel = 36', 'channel = 999'), encoding="utf-8")
    r = run("passpoint", "render", str(tmp_path / "ap.toml"))
    assert r.returncode == 2 and "ap.radios[1].channel" in r.stderr and "Traceback" not in r.stderr


def test_cli_render_refuses_binary_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00garbage")
    for path in (tmp_path / "bin.toml", tmp_path / "missing.toml"):
        r = run("passpoint", "render", str(path))
        assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.startswith("passpoint: ")


def test_cli_rcoi() -> None:
    assert run("passpoint", "rcoi", "encode", "--tier", "silver", "--id-type", "government",
               "--users-identified").stdout.strip() == "5A03BA3400"
    decoded = run("passpoint", "rcoi", "decode", "baa2d00000")
    assert "settled" in decoded.stdout and decoded.returncode == 0
    assert run("passpoint", "rcoi", "decode", "5A03BA4000").returncode == 2


@settings(max_examples=300, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=EXAMPLE.count("\n")), max_size=6),
       st.sampled_from(['"x"', "0", "-1", "[]", "{}", "true", '"5A03BA4000"', "1e999", '"\\u0000"']))
def test_a_damaged_description_only_ever_raises_a_description_error(lines: set[int], junk: str) -> None:
    """Lines deleted or their values replaced by junk of another type: a typed error or a valid description."""
    damaged = []
    for i, line in enumerate(EXAMPLE.splitlines()):
        if i in lines and " = " in line and not line.startswith("#"):
            damaged.append(line.split(" = ")[0] + " = " + junk)
        elif i not in lines:
            damaged.append(line)
    try:
        parse_description("\n".join(damaged))
    except DescriptionError as exc:
        assert exc.field and exc.problem
