"""Renderers against the golden files (reviewed by a person), and determinism."""

from __future__ import annotations

import os

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


def test_json_documents_follow_the_schema_shape() -> None:
    import json
    from pathlib import Path

    schema = json.loads((Path(__file__).parents[2] / "src/tsunagaru/passpoint/ap-config.schema.json").read_text())
    for path in sorted(GOLDEN.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert set(schema["required"]) <= set(doc) and doc["$schema"] == schema["$id"]
        for radio in doc["radios"]:
            assert set(schema["$defs"]["radio"]["required"]) <= set(radio)
            for bss in radio["bsses"]:
                assert set(schema["$defs"]["bss"]["required"]) <= set(bss)
