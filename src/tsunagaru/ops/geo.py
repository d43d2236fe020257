"""Geometry for incident areas: GeoJSON polygons read strictly, point-in-polygon, haversine, bounding boxes.

Written by hand rather than with shapely: the only operations needed are "is this point inside this
(multi)polygon" and "how far apart are two points", about 60 lines of arithmetic, while shapely would bring
GEOS and numpy as binary wheels (an easy install here, shapely 2.2.0 has a wheel, but no inline types for
mypy --strict) for a hot path that runs once per site when an incident is declared. The parser is the part
that matters: GeoJSON comes from a form or the API, so every level is checked and bounded.

Coordinates are GeoJSON's ``[longitude, latitude]``; rings are tested on the plane of degrees, which at
the size of Tokyo's wards (a few km) differs from a geodesic test by metres, less than the uncertainty of
the sites' own coordinates. The boundaries shipped with the product come from MLIT N03 (2021):
「出典：国土数値情報（行政区域データ）（国土交通省）を加工して作成」.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
MAX_VERTICES = 100_000  # an area from a form or the API is bounded; Tokyo's whole boundary set has ~6,200
MAX_POLYGONS = 1_000

SHIPPED = "tokyo_municipalities_N03-21_13_210101_s0010.geojson"

LonLat = tuple[float, float]
Ring = tuple[LonLat, ...]
Polygon = tuple[Ring, ...]  # outer ring first, then holes (GeoJSON RFC 7946 3.1.6)


class InvalidGeoJSON(ValueError):
    """The geometry is not a GeoJSON Polygon or MultiPolygon this module accepts; ``where`` locates it."""

    def __init__(self, message: str, where: str = "") -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


@dataclass(frozen=True, slots=True)
class Bbox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon

    def intersects(self, other: Bbox) -> bool:
        return not (other.min_lon > self.max_lon or other.max_lon < self.min_lon
                    or other.min_lat > self.max_lat or other.max_lat < self.min_lat)

    @classmethod
    def around(cls, points: Iterable[LonLat]) -> Bbox:
        lons, lats = zip(*points, strict=True)
        return cls(min(lons), min(lats), max(lons), max(lats))


@dataclass(frozen=True, slots=True)
class Shape:
    """A multipolygon (a Polygon is a multipolygon of one) with its bounding box for a quick refusal."""

    polygons: tuple[Polygon, ...]
    bbox: Bbox

    def contains(self, lat: float, lon: float) -> bool:
        if not self.bbox.contains(lat, lon):
            return False
        return any(_in_polygon(lon, lat, polygon) for polygon in self.polygons)


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    """Even-odd ray casting: count the edges a ray to +x crosses (half-open in y, so shared vertices count once)."""
    inside = False
    x1, y1 = ring[-1]
    for x2, y2 in ring:
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
        x1, y1 = x2, y2
    return inside


def _in_polygon(x: float, y: float, polygon: Polygon) -> bool:
    outer, *holes = polygon
    return _in_ring(x, y, outer) and not any(_in_ring(x, y, hole) for hole in holes)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


# -- parsing -------------------------------------------------------------------------------------


def parse_geometry(obj: object) -> Shape:
    """A Shape from a GeoJSON Polygon, MultiPolygon, or a Feature holding one; raises InvalidGeoJSON."""
    if isinstance(obj, str | bytes):
        try:
            obj = json.loads(obj)
        except (ValueError, RecursionError) as exc:
            raise InvalidGeoJSON(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(obj, Mapping):
        raise InvalidGeoJSON("a GeoJSON object must be a JSON object")
    kind = obj.get("type")
    if kind == "Feature":  # one level: a Feature's geometry is a geometry, never another Feature
        obj = obj.get("geometry")
        if not isinstance(obj, Mapping) or obj.get("type") == "Feature":
            raise InvalidGeoJSON("a Feature's geometry must be a Polygon or MultiPolygon object", "geometry")
        kind = obj.get("type")
    coords = obj.get("coordinates")
    budget = [MAX_VERTICES]
    polygons: tuple[Polygon, ...]
    if kind == "Polygon":
        polygons = (_polygon(coords, "coordinates", budget),)
    elif kind == "MultiPolygon":
        polygons = tuple(_polygon(p, f"coordinates[{i}]", budget) for i, p in enumerate(_list(coords, "coordinates")))
        if not polygons:
            raise InvalidGeoJSON("a MultiPolygon needs at least one polygon", "coordinates")
        if len(polygons) > MAX_POLYGONS:
            raise InvalidGeoJSON(f"more than {MAX_POLYGONS} polygons", "coordinates")
    else:
        raise InvalidGeoJSON(f"type must be Polygon, MultiPolygon or Feature, not {str(kind)[:40]!r}", "type")
    return Shape(polygons, Bbox.around(pt for polygon in polygons for pt in polygon[0]))


def _list(value: object, where: str) -> Sequence[object]:
    if not isinstance(value, list | tuple):
        raise InvalidGeoJSON("must be an array", where)
    return value


def _polygon(value: object, where: str, budget: list[int]) -> Polygon:
    rings = _list(value, where)
    if not rings:
        raise InvalidGeoJSON("a polygon needs an outer ring", where)
    return tuple(_ring(ring, f"{where}[{i}]", budget) for i, ring in enumerate(rings))


def _ring(value: object, where: str, budget: list[int]) -> Ring:
    positions = _list(value, where)
    budget[0] -= len(positions)
    if budget[0] < 0:
        raise InvalidGeoJSON(f"more than {MAX_VERTICES} positions in all", where)
    ring = tuple(_position(p, f"{where}[{i}]") for i, p in enumerate(positions))
    if len(ring) < 4:
        raise InvalidGeoJSON("a linear ring needs at least 4 positions", where)
    if ring[0] != ring[-1]:
        raise InvalidGeoJSON("a linear ring must end where it starts", where)
    return ring


def _position(value: object, where: str) -> LonLat:
    items = _list(value, where)
    if len(items) not in (2, 3):  # an altitude is allowed and ignored
        raise InvalidGeoJSON("a position is [longitude, latitude]", where)
    lon, lat = items[0], items[1]
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in (lon, lat)):
        raise InvalidGeoJSON("coordinates must be finite numbers", where)
    assert isinstance(lon, int | float) and isinstance(lat, int | float)
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidGeoJSON("longitude must be within ±180 and latitude within ±90", where)
    return float(lon), float(lat)


# -- the shipped boundaries ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Boundaries:
    """Municipality boundaries by 5-digit code (N03_007) and the box of each, for "is this in Tokyo"."""

    shapes: Mapping[str, Shape]

    @classmethod
    def load(cls, path: Path) -> Boundaries:
        data = json.loads(path.read_text(encoding="utf-8"))
        shapes: dict[str, Shape] = {}
        for feature in data["features"]:
            code = feature["properties"].get("N03_007")
            shapes[code or "unassigned"] = parse_geometry(feature["geometry"])
        return cls(shapes)

    @classmethod
    def shipped(cls) -> Boundaries:
        """The boundaries the registry ships in the package (``tsunagaru/sites/data``)."""
        from importlib import resources

        return cls.load(Path(str(resources.files("tsunagaru.sites") / "data" / SHIPPED)))

    def touches(self, box: Bbox) -> bool:
        """Whether ``box`` meets the box of any municipality (islands included): the "inside Tokyo" test."""
        return any(shape.bbox.intersects(box) for shape in self.shapes.values())

    def municipality_at(self, lat: float, lon: float) -> str | None:
        """The 5-digit code whose polygon holds the point (display only: use the address to assign sites)."""
        return next((code for code, shape in self.shapes.items() if shape.contains(lat, lon)), None)


def circle_bbox(lat: float, lon: float, radius_m: float) -> Bbox:
    """A box that holds the circle (latitude degrees are ~111 km; longitude shrinks with cos(lat))."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    return Bbox(lon - dlon, lat - dlat, lon + dlon, lat + dlat)
