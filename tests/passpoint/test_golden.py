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
