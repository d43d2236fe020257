"""Incident areas (municipality codes, a GeoJSON polygon, a centre and radius) and the APs inside one.

An area is read from the API's shape ``{"municipalities": [...]}`` | ``{"polygon": GEOJSON}`` |
``{"circle": {"lat", "lon", "radius_m"}}`` into a frozen value; :func:`affected_aps` is pure over the
sites (with their APs) the registry hands in. Municipalities are matched by the site's code, never by
the boundary polygons: the simplified polygons put some coastal and border sites in the wrong ward.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from tsunagaru.ops.geo import Bbox, InvalidGeoJSON, Shape, circle_bbox, haversine_m, parse_geometry

MAX_RADIUS_M = 100_000.0  # a circle larger than Tokyo's main area is a typo, not a disaster plan
MAX_MUNICIPALITIES = 100
SHELTER = "shelter"


class AreaError(ValueError):
    """The area could not be read; ``code`` is stable for the API and the translated message."""

    code = "invalid-area"


class InvalidArea(AreaError):
    code = "invalid-area"


class NotGeoJSON(AreaError):
    code = "invalid-geojson"


@dataclass(frozen=True, slots=True)
class MunicipalityArea:
    codes: frozenset[str]  # 6-digit local government codes, e.g. "131041" (Shinjuku)

    def to_json(self) -> dict[str, object]:
        return {"municipalities": sorted(self.codes)}


@dataclass(frozen=True, slots=True)
class PolygonArea:
    shape: Shape
    geojson: Mapping[str, object]  # as given (validated), for the map

    def to_json(self) -> dict[str, object]:
        return {"polygon": dict(self.geojson)}


@dataclass(frozen=True, slots=True)
class CircleArea:
    lat: float
    lon: float
    radius_m: float

    def to_json(self) -> dict[str, object]:
        return {"circle": {"lat": self.lat, "lon": self.lon, "radius_m": self.radius_m}}


Area = MunicipalityArea | PolygonArea | CircleArea


@dataclass(frozen=True, slots=True)
class SiteAps:
    """What area matching needs of a site: where it is, its code and category, and its APs' ids."""

    site_id: str
    municipality_code: str
    lat: float | None
    lon: float | None
    category: str
    ap_ids: tuple[str, ...]
    name: str = ""


def parse_area(obj: object) -> Area:
    """An Area from the API's JSON; raises NotGeoJSON or InvalidArea with a message for the user."""
    if not isinstance(obj, Mapping) or len(obj) != 1:
        raise InvalidArea('area must be one of {"municipalities": [...]}, {"polygon": ...}, {"circle": ...}')
    ((kind, value),) = obj.items()
    if kind == "municipalities":
        return _municipalities(value)
    if kind == "polygon":
        if not isinstance(value, Mapping):
            raise NotGeoJSON("polygon must be a GeoJSON object (Polygon, MultiPolygon or a Feature of one)")
        try:
            return PolygonArea(parse_geometry(value), value)
        except InvalidGeoJSON as exc:
            raise NotGeoJSON(str(exc)) from None
    if kind == "circle":
        return _circle(value)
    raise InvalidArea(f"unknown area kind {str(kind)[:40]!r}")


def _municipalities(value: object) -> MunicipalityArea:
    if not isinstance(value, list) or not value or len(value) > MAX_MUNICIPALITIES:
        raise InvalidArea(f"municipalities must be a list of 1 to {MAX_MUNICIPALITIES} codes")
    if not all(isinstance(c, str) and len(c) == 6 and c.isascii() and c.isdigit() for c in value):
        raise InvalidArea("a municipality is its 6-digit local government code, e.g. 131041")
    return MunicipalityArea(frozenset(value))


def _circle(value: object) -> CircleArea:
    if not isinstance(value, Mapping):
        raise InvalidArea("circle must be {lat, lon, radius_m}")
    numbers = [value.get(k) for k in ("lat", "lon", "radius_m")]
    if not all(isinstance(n, int | float) and not isinstance(n, bool) and math.isfinite(n) for n in numbers):
        raise InvalidArea("circle needs numeric lat, lon and radius_m")
    lat, lon, radius = (float(n) for n in numbers)  # type: ignore[arg-type]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidArea("circle centre out of range")
    if not 0 < radius <= MAX_RADIUS_M:
        raise InvalidArea(f"radius_m must be above 0 and at most {MAX_RADIUS_M:.0f}")
    return CircleArea(lat, lon, radius)


def area_bbox(area: PolygonArea | CircleArea) -> Bbox:
    if isinstance(area, PolygonArea):
        return area.shape.bbox
    return circle_bbox(area.lat, area.lon, area.radius_m)


def site_in_area(site: SiteAps, area: Area) -> bool:
    if isinstance(area, MunicipalityArea):
        return site.municipality_code in area.codes
    if site.lat is None or site.lon is None:
        return False  # a site without coordinates is reached by its municipality only
    if isinstance(area, CircleArea):
        return haversine_m(area.lat, area.lon, site.lat, site.lon) <= area.radius_m
    return area.shape.contains(site.lat, site.lon)


def affected_sites(area: Area, sites: Iterable[SiteAps]) -> list[SiteAps]:
    """The sites in the area, shelters first (then by name and id), as listings show them."""
    return order_sites(s for s in sites if site_in_area(s, area))


class HasArea(Protocol):
    @property
    def area(self) -> Area: ...


def affected_aps(area: Area | HasArea, sites: Iterable[SiteAps]) -> frozenset[str]:
    """The ids of every AP of every site in the area (of an incident, or an area itself)."""
    shape = area if isinstance(area, MunicipalityArea | PolygonArea | CircleArea) else area.area
    return frozenset(ap for site in sites if site_in_area(site, shape) for ap in site.ap_ids)


def order_sites(sites: Iterable[SiteAps]) -> list[SiteAps]:
    return sorted(sites, key=lambda s: (s.category != SHELTER, s.name, s.site_id))


def codes_in(sites: Sequence[SiteAps]) -> frozenset[str]:
    return frozenset(s.municipality_code for s in sites)
