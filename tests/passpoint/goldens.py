"""The golden cases: three AP descriptions (a city facility, a phone booth, a municipal site), each
rendered with and without the disaster BSS, in every format. Set TSUNAGARU_REGOLD=1 to rewrite the
files; a person reviews every change to them."""

from __future__ import annotations

import datetime
from pathlib import Path

from tsunagaru.passpoint.description import Description, parse_description
from tsunagaru.passpoint.model import DisasterState
from tsunagaru.passpoint.plan import ApPlan, plan_ap
from tsunagaru.passpoint.render.hostapd import render_hostapd
from tsunagaru.passpoint.render.json import render_json
from tsunagaru.passpoint.render.openwrt import render_openwrt

GOLDEN = Path(__file__).parent / "golden"
CASES = ("city-facility", "phone-booth", "municipal-site")
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def description(case: str) -> Description:
    return parse_description((GOLDEN / f"{case}.toml").read_text(encoding="utf-8"))


def plan(case: str, disaster: bool) -> tuple[Description, ApPlan]:
    desc = description(case)
    state = desc.disaster if disaster else DisasterState()
    return desc, plan_ap(desc.operator, desc.site, desc.ap, state, NOW)


def rendered(case: str, disaster: bool) -> dict[str, bytes]:
    """Golden file name -> bytes for one case."""
    desc, p = plan(case, disaster)
    stem = f"{case}{'-disaster' if disaster else ''}"
    files = {f"{stem}.{name.removeprefix('hostapd-')}": data for name, data in render_hostapd(p, desc.secrets).items()}
    files[f"{stem}.wireless"] = render_openwrt(p, desc.secrets)
    files[f"{stem}.json"] = render_json(p, desc.secrets)
    return files


def all_cases() -> list[tuple[str, bool]]:
    return [(case, disaster) for case in CASES for disaster in (False, True)]
