"""Areas from the API's JSON, and the APs inside them (code, polygon, circle)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.ops.fixtures import SITES
from tsunagaru.ops.areas import (
    CircleArea,
    InvalidArea,
    MunicipalityArea,
    NotGeoJSON,
    SiteAps,
    affected_aps,
    affected_sites,
    parse_area,
)
from tsunagaru.ops.geo import haversine_m

SHINJUKU_BOX = {"type": "Polygon", "coordinates": [[[139.69, 35.68], [139.72, 35.68], [139.72, 35.70],
                                                     [139.69, 35.70], [139.69, 35.68]]]}


def test_municipalities_by_code_not_polygon() -> None:
    area = parse_area({"municipalities": ["131041", "131083"]})
    assert area == MunicipalityArea(frozenset({"131041", "131083"}))
    assert affected_aps(area, SITES) == {"ap-1", "ap-2", "ap-3", "ap-5"}


def test_polygon_and_circle() -> None:
    assert affected_aps(parse_area({"polygon": SHINJUKU_BOX}), SITES) == {"ap-1", "ap-2", "ap-3"}
    circle = parse_area({"circle": {"lat": 35.6812, "lon": 139.7671, "radius_m": 500}})
    assert affected_aps(circle, SITES) == {"ap-4"}  # the site without coordinates is reached by code only
    assert affected_aps(parse_area({"circle": {"lat": 35.6812, "lon": 139.7671, "radius_m": 7000}}), SITES) \
        == {"ap-1", "ap-2", "ap-3", "ap-4", "ap-5"}


def test_shelters_first() -> None:
    listed = affected_sites(parse_area({"municipalities": ["131041"]}), SITES)
    assert [s.site_id for s in listed] == ["s-shinjuku-shelter", "s-shinjuku-park"]


@pytest.mark.parametrize(("doc", "error"), [
    ({}, InvalidArea),
    ({"municipalities": []}, InvalidArea),
    ({"municipalities": ["13104"]}, InvalidArea),
    ({"municipalities": ["131041"], "circle": {}}, InvalidArea),
    ({"polygon": {"type": "Polygon", "coordinates": [[[0, 0]]]}}, NotGeoJSON),
    ({"polygon": "nonsense"}, NotGeoJSON),
    ({"polygon": '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}'}, NotGeoJSON),
    ({"circle": {"lat": 35.6, "lon": 139.7}}, InvalidArea),
    ({"circle": {"lat": 35.6, "lon": 139.7, "radius_m": 0}}, InvalidArea),
    ({"circle": {"lat": 35.6, "lon": 139.7, "radius_m": 1e9}}, InvalidArea),
    ({"circle": {"lat": 95, "lon": 139.7, "radius_m": 10}}, InvalidArea),
    ({"square": 1}, InvalidArea),
    ("text", InvalidArea),
])
def test_bad_areas(doc: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_area(doc)


site_st = st.builds(
    lambda i, lat, lon: SiteAps(f"s{i}", "131041", lat, lon, "park", (f"ap{i}",)),
    st.integers(0, 10_000), st.floats(35.5, 35.9), st.floats(139.4, 139.95))


@given(st.lists(site_st, max_size=30, unique_by=lambda s: s.site_id), st.floats(35.5, 35.9),
       st.floats(139.4, 139.95), st.floats(1, 30_000))
def test_circle_is_exactly_the_sites_within_radius(sites: list[SiteAps], lat: float, lon: float, r: float) -> None:
    got = affected_aps(CircleArea(lat, lon, r), sites)
    assert got == {s.ap_ids[0] for s in sites if haversine_m(lat, lon, s.lat or 0, s.lon or 0) <= r}
    assert got <= affected_aps(CircleArea(lat, lon, r * 2), sites)  # monotone in the radius


json_st = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=6),
                       lambda c: st.lists(c, max_size=5) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                       max_leaves=30)


@given(st.sampled_from(["municipalities", "polygon", "circle", "x"]), json_st)
def test_any_json_area_is_an_area_or_a_typed_error(kind: str, value: object) -> None:
    with contextlib.suppress(InvalidArea, NotGeoJSON):
        parse_area({kind: value})
