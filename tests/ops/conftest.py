"""Fixtures for the operations tests: the shipped Tokyo boundaries and municipality list, read from shared/.

The package ships copies (``tsunagaru/sites/data``, with their licences in SOURCES.md): the tests read those,
or the project's shared folder when ``TSUNAGARU_SHARED`` names one (to check against the originals).
"""

from __future__ import annotations

import csv
import os
from importlib import resources
from pathlib import Path

import pytest

from tsunagaru.ops.geo import Boundaries

GEOJSON = "tokyo_municipalities_N03-21_13_210101_s0010.geojson"
MUNICIPALITIES = "tokyo_municipalities.csv"


def shared_data() -> Path:
    env = os.environ.get("TSUNAGARU_SHARED")
    if env:
        return Path(env) / "data"
    shipped = Path(str(resources.files("tsunagaru.sites") / "data"))
    if not (shipped / GEOJSON).is_file():
        raise FileNotFoundError(f"the shipped Tokyo data is missing from {shipped} (or set TSUNAGARU_SHARED)")
    return shipped



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
