"""Renderers against the golden files (reviewed by a person), and determinism."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jsonschema
import pytest

from tests.passpoint.goldens import GOLDEN, all_cases, rendered


@pytest.mark.parametrize(("case", "disaster"), all_cases())
def test_matches_golden(case: str, disaster: bool) -> None:
    for name, data in rendered(case, disaster).items():
        path = GOLDEN / name
        if os.environ.get("TSUNAGARU_REGOLD"):
            path.write_bytes(data)
        assert path.exists(), f"missing golden {name} (TSUNAGARU_REGOLD=1 writes it; then review it)"
        assert data == path.read_bytes(), f"{name} differs from its golden file"


@pytest.mark.parametrize(("case", "disaster"), all_cases())
def test_same_input_same_bytes(case: str, disaster: bool) -> None:
    assert rendered(case, disaster) == rendered(case, disaster)


def test_json_documents_validate_against_the_schema() -> None:
    schema = json.loads((Path(__file__).parents[2] / "src/tsunagaru/passpoint/ap-config.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(GOLDEN.glob("*.json")):
        errors = [e.message for e in validator.iter_errors(json.loads(path.read_text(encoding="utf-8")))]
        assert errors == [], path.name


def test_the_schema_refuses_a_plain_http_venue_url() -> None:
    schema = json.loads((Path(__file__).parents[2] / "src/tsunagaru/passpoint/ap-config.schema.json").read_text())
    doc = json.loads((GOLDEN / "city-facility.json").read_text(encoding="utf-8"))
    doc["radios"][0]["bsses"][0]["passpoint"]["venue"]["urls"][0]["url"] = "http://www.metro.tokyo.lg.jp/"
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc))


HOSTILE_REASON = "地震\nbss=evil\r\nignore_broadcast_ssid=1\x00 (訓練)\u2028" + "x" * 300


def test_a_hostile_disaster_reason_stays_in_its_comment() -> None:
    """A reason with newlines and control characters (typed into the incident form) cannot add a line that
    hostapd reads as configuration: the golden file shows how it is written (reviewed by a person)."""
    import dataclasses

    from tests.passpoint.goldens import NOW, description
    from tsunagaru.passpoint.plan import plan_ap
    from tsunagaru.passpoint.render.hostapd import render_hostapd

    desc = description("city-facility")
    state = dataclasses.replace(desc.disaster, reason=HOSTILE_REASON)
    files = render_hostapd(plan_ap(desc.operator, desc.site, desc.ap, state, NOW), desc.secrets)
    data = files["hostapd-radio0.conf"]
    path = GOLDEN / "hostile-reason.radio0.conf"
    if os.environ.get("TSUNAGARU_REGOLD"):
        path.write_bytes(data)
    assert data == path.read_bytes(), "hostile-reason.radio0.conf differs from its golden file"
    lines = data.decode().splitlines()
    assert not any(line.startswith(("bss=evil", "ignore_broadcast_ssid")) for line in lines)
    comment = next(line for line in lines if line.startswith("# 00000JAPAN until"))
    assert "\\x0abss=evil\\x0d\\x0aignore_broadcast_ssid=1\\x00" in comment and comment.isprintable()
    assert len(comment) < 300
