"""Geometry: point-in-polygon against the shipped boundaries, strict GeoJSON, haversine; properties by hypothesis."""

from __future__ import annotations

import contextlib
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagaru.ops.geo import (
    MAX_VERTICES,
    Bbox,
    Boundaries,
    InvalidGeoJSON,
    circle_bbox,
    haversine_m,
    parse_geometry,
)

lat_st = st.floats(min_value=-80, max_value=80, allow_nan=False)
lon_st = st.floats(min_value=-170, max_value=170, allow_nan=False)
size_st = st.floats(min_value=1e-4, max_value=5)


def square(lon: float, lat: float, half: float) -> list[list[float]]:
    return [[lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half], [lon - half, lat + half],
            [lon - half, lat - half]]


@pytest.mark.parametrize(("lat", "lon", "code"), [
    (35.6896, 139.7006, "13104"),  # Shinjuku station
    (35.6812, 139.7671, "13101"),  # Tokyo station, Chiyoda
    (35.7101, 139.8107, "13107"),  # Tokyo Skytree, Sumida
    (33.1100, 139.7900, "13401"),  # Hachijo-jima
    (35.6580, 139.7016, "13113"),  # Shibuya
])
def test_known_places_fall_in_their_municipality(boundaries: Boundaries, lat: float, lon: float, code: str) -> None:
    assert boundaries.municipality_at(lat, lon) == code


def test_places_outside_tokyo(boundaries: Boundaries) -> None:
    assert boundaries.municipality_at(34.6937, 135.5023) is None  # Osaka
    assert boundaries.municipality_at(35.4437, 139.6380) is None  # Yokohama
    assert not boundaries.touches(Bbox(135.4, 34.6, 135.6, 34.8))
    assert boundaries.touches(Bbox(139.69, 35.68, 139.71, 35.70))
    assert len(boundaries.shapes) == 63  # 62 municipalities and the unassigned area


def test_the_package_ships_the_same_boundaries(boundaries: Boundaries) -> None:
    assert Boundaries.shipped() == boundaries


def test_hole_is_outside() -> None:
    shape = parse_geometry({"type": "Polygon", "coordinates": [square(139.7, 35.7, 0.1), square(139.7, 35.7, 0.05)]})
    assert not shape.contains(35.7, 139.7)
    assert shape.contains(35.7, 139.7 + 0.07)
    assert not shape.contains(35.7, 139.7 + 0.2)


def test_feature_and_multipolygon_and_text() -> None:
    multi = {"type": "MultiPolygon", "coordinates": [[square(139.7, 35.7, 0.01)], [square(139.9, 35.7, 0.01)]]}
    shape = parse_geometry(json.dumps({"type": "Feature", "properties": {}, "geometry": multi}))
    assert shape.contains(35.7, 139.7) and shape.contains(35.7, 139.9) and not shape.contains(35.7, 139.8)
    assert parse_geometry({"type": "Polygon", "coordinates": [[[*p, 12.0] for p in square(1, 1, 1)]]}).contains(1, 1)


@pytest.mark.parametrize(("doc", "why"), [
    ("{not json", "not JSON"),
    ([1, 2], "JSON object"),
    ({"type": "Point", "coordinates": [139.7, 35.7]}, "type must be"),
    ({"type": "Polygon"}, "array"),
    ({"type": "Polygon", "coordinates": []}, "outer ring"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, "at least 4"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, "end where it starts"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, "x"], [1, 1], [0, 0]]]}, "finite numbers"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, True], [1, 1], [0, 0]]]}, "finite numbers"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, math.inf], [0, 0]]]}, "finite numbers"),
    ({"type": "Polygon", "coordinates": [[[0, 0], [200, 0], [1, 1], [0, 0]]]}, "±180"),
    ({"type": "Polygon", "coordinates": [[[0], [1, 0], [1, 1], [0, 0]]]}, "[longitude, latitude]"),
    ({"type": "MultiPolygon", "coordinates": []}, "at least one polygon"),
    ({"type": "Feature", "geometry": None}, "geometry must be"),
    ({"type": "Feature", "geometry": {"type": "Feature"}}, "geometry must be"),
])
def test_bad_geojson_is_a_typed_error(doc: object, why: str) -> None:
    with pytest.raises(InvalidGeoJSON, match=why):
        parse_geometry(doc)


def test_vertex_budget() -> None:
    ring = [[0.0, 0.0], *([[1.0, 1.0]] * (MAX_VERTICES)), [0.0, 0.0]]
    with pytest.raises(InvalidGeoJSON, match="more than"):
        parse_geometry({"type": "Polygon", "coordinates": [ring]})


def test_haversine_known_distance() -> None:
    # Tokyo station to Shinjuku station: about 6.1 km
    assert 6000 < haversine_m(35.6812, 139.7671, 35.6896, 139.7006) < 6200


@given(lon_st, lat_st, size_st, st.floats(min_value=0, max_value=0.999), st.floats(min_value=0, max_value=0.999))
def test_points_inside_a_square_are_inside(lon: float, lat: float, half: float, fx: float, fy: float) -> None:
    shape = parse_geometry({"type": "Polygon", "coordinates": [square(lon, lat, half)]})
    px, py = lon - half * 0.999 + 2 * half * 0.999 * fx, lat - half * 0.999 + 2 * half * 0.999 * fy
    assert shape.contains(py, px)
    assert not shape.contains(lat + 2 * half, lon)
    reversed_ring = {"type": "Polygon", "coordinates": [square(lon, lat, half)[::-1]]}
    assert parse_geometry(reversed_ring).contains(py, px)  # orientation does not matter


@given(st.lists(st.tuples(st.floats(-1, 1), st.floats(-1, 1)), min_size=3, max_size=12), lat_st, lon_st)
def test_inside_implies_in_bbox(points: list[tuple[float, float]], lat: float, lon: float) -> None:
    ring = [[x + 139.7, y + 35.7] for x, y in points]
    shape = parse_geometry({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    for qlat, qlon in ((lat, lon), (35.7, 139.7)):
        if shape.contains(qlat, qlon):
            assert shape.bbox.contains(qlat, qlon)


@given(lat_st, lon_st, lat_st, lon_st)
def test_haversine_is_a_metric(lat1: float, lon1: float, lat2: float, lon2: float) -> None:
    d = haversine_m(lat1, lon1, lat2, lon2)
    assert d >= 0
    assert math.isclose(d, haversine_m(lat2, lon2, lat1, lon1), rel_tol=1e-9, abs_tol=1e-6)
    assert haversine_m(lat1, lon1, lat1, lon1) == 0
    assert d <= math.pi * 6_371_008.8 + 1
    assert d <= haversine_m(lat1, lon1, 0, 0) + haversine_m(0, 0, lat2, lon2) + 1e-3


@given(st.floats(min_value=-70, max_value=70), lon_st, st.floats(min_value=1, max_value=100_000),
       st.floats(min_value=0, max_value=2 * math.pi), st.floats(min_value=0, max_value=1))
def test_circle_bbox_holds_the_circle(lat: float, lon: float, radius: float, bearing: float, frac: float) -> None:
    # walk frac*radius from the centre along the bearing (spherical destination formula)
    d = frac * radius / 6_371_008.8
    p1, l1 = math.radians(lat), math.radians(lon)
    p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing))
    l2 = l1 + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    plat, plon = math.degrees(p2), math.degrees(l2)
    assert haversine_m(lat, lon, plat, plon) <= radius * 1.000001 + 1e-6
    box = circle_bbox(lat, lon, radius * 1.0001)
    assert box.contains(plat, plon)


json_st = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.sampled_from(
        ["type", "coordinates", "geometry", "x"]), children, max_size=4), max_leaves=40)


@settings(max_examples=300)
@given(json_st, st.sampled_from(["Polygon", "MultiPolygon", "Feature", None]))
def test_fuzz_only_typed_errors(value: object, kind: str | None) -> None:
    doc = {"type": kind, "coordinates": value, "geometry": value} if kind else value
    with contextlib.suppress(InvalidGeoJSON):
        parse_geometry(doc)
