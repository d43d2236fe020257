"""Fixtures for the operations tests: the shipped Tokyo boundaries and municipality list, read from shared/.

The registry will ship copies in the package; until then the tests read them from the project's shared
folder (``TSUNAGARU_SHARED``, else the nearest ``shared/data`` beside the repository or above it).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from tsunagaru.ops.geo import Boundaries

GEOJSON = "tokyo_municipalities_N03-21_13_210101_s0010.geojson"
MUNICIPALITIES = "tokyo_municipalities.csv"


def shared_data() -> Path:
    env = os.environ.get("TSUNAGARU_SHARED")
    if env:
        return Path(env) / "data"
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "data"
        if (candidate / GEOJSON).is_file():
            return candidate
    raise FileNotFoundError("shared/data with the Tokyo boundaries not found (set TSUNAGARU_SHARED)")



_boundaries: Boundaries | None = None


@pytest.fixture(scope="session")
def boundaries() -> Boundaries:
    global _boundaries
    if _boundaries is None:
        _boundaries = Boundaries.load(shared_data() / GEOJSON)
    return _boundaries


@pytest.fixture(scope="session")
def municipalities() -> dict[str, str]:
    """6-digit local government code -> Japanese name."""
    with (shared_data() / MUNICIPALITIES).open(encoding="utf-8") as f:
        return {row["lg_code"]: row["name_ja"] for row in csv.DictReader(f)}
