"""An AP's config from its registry rows: mapping onto the Passpoint model, rendering, and a cache.

The config is a pure function of (operator, site row, AP row, disaster state, format), so the digest
of those inputs keys a bounded LRU of rendered bytes, and the ETag is the digest of the bytes
themselves (DESIGN.md: equal bytes, equal ETag, whoever renders them). A poll whose inputs did not
change costs one digest and one dict lookup. The disaster state comes from a pluggable lookup (the
incidents part installs one on ``ctx.extras["disaster"]``); without it no AP carries 00000JAPAN.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from tsunagaru.passpoint import description
from tsunagaru.passpoint.model import (
    NO_DISASTER,
    AccessPoint,
    Band,
    DisasterState,
    ModelError,
    Operator,
    Platform,
    Radio,
    Site,
)
from tsunagaru.passpoint.plan import plan_ap
from tsunagaru.passpoint.render.hostapd import render_hostapd
from tsunagaru.passpoint.render.json import render_json
from tsunagaru.passpoint.render.openwrt import render_openwrt
from tsunagaru.passpoint.venues import SiteCategory

FORMATS = {"hostapd": "text/plain; charset=utf-8", "openwrt": "text/plain; charset=utf-8",
           "json": "application/json"}
DISASTER_HEADER = "X-Tsunagaru-Disaster-Until"

# the registry's categories -> the Passpoint venue categories
CATEGORIES = {"phone-booth": SiteCategory.PHONE_BOOTH, "park": SiteCategory.PARK,
              "transport": SiteCategory.STATION_AREA, "station": SiteCategory.STATION_AREA,
              "tourist-info": SiteCategory.TOURIST_INFORMATION, "facility": SiteCategory.CITY_FACILITY,
              "municipal": SiteCategory.MUNICIPAL_FACILITY, "signage": SiteCategory.STREET,
              "shelter": SiteCategory.SHELTER, "library": SiteCategory.LIBRARY}
DEFAULT_CHANNEL = {"2g": 6, "5g": 36, "6g": 37}
MAX_NAME = 240  # octets of a venue name (ANQP's limit is 252, leave room)

class ApRow(Protocol):
    """What a config is made of from an AP row (an ORM row or a Core row with these columns)."""

    @property
    def id(self) -> int: ...
    @property
    def site_id(self) -> int: ...
    @property
    def platform(self) -> str: ...
    @property
    def nas_identifier(self) -> str | None: ...
    @property
    def radios(self) -> Any: ...
    @property
    def bssids(self) -> Any: ...
    @property
    def secret_ref(self) -> str | None: ...


class SiteRow(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def name_en(self) -> str | None: ...
    @property
    def category(self) -> str: ...
    @property
    def municipality_code(self) -> str | None: ...
    @property
    def lat(self) -> float | None: ...
    @property
    def lon(self) -> float | None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def url(self) -> str | None: ...


DisasterLookup = Callable[[ApRow, SiteRow, datetime], DisasterState]


class Unrenderable(Exception):
    """The rows cannot make a config (no radios, a bad name...): ``field`` says which."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field, self.problem = field, problem


@dataclass(frozen=True, slots=True)
class OperatorConfig:
    operator: Operator
    secrets: Mapping[str, str]


def load_operator(path: Path) -> OperatorConfig:
    """The ``[operator]`` and ``[secrets]`` tables of a Passpoint description file (see passpoint example)."""
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    op = doc.get("operator")
    if not isinstance(op, dict):
        raise ModelError("operator", "the [operator] table is required")
    return OperatorConfig(description._operator(op), description._secrets(doc.get("secrets", {})))


def _fit(text: str) -> str:
    data = text.strip().encode()[:MAX_NAME]
    return data.decode(errors="ignore") or "-"


def site_model(row: SiteRow) -> Site:
    url = row.url if row.url and row.url.startswith("https://") and " " not in row.url else None
    return Site(id=str(row.id), name_ja=_fit(row.name), name_en=_fit(row.name_en or row.name),
                category=CATEGORIES.get(row.category, SiteCategory.OTHER),
                municipality_code=row.municipality_code or "130001", lat=row.lat, lon=row.lon,
                address=row.address or "", url_ja=url, url_en=url)


def ap_model(row: ApRow) -> AccessPoint:
    radios = tuple(Radio(name=f"radio{i}", band=Band(r.get("band", "2g")),
                         channel=r.get("channel") or DEFAULT_CHANNEL.get(r.get("band", "2g"), 6),
                         interface=f"wlan{i}") for i, r in enumerate(row.radios or ()))
    platform = Platform(row.platform) if row.platform in ("hostapd", "openwrt") else Platform.CONTROLLER
    return AccessPoint(id=str(row.id), site_id=str(row.site_id), nas_identifier=row.nas_identifier or f"ap-{row.id}",
                       radios=radios, platform=platform)


def input_digest(ap: ApRow, site: SiteRow, disaster: DisasterState, fmt: str, radio: str | None) -> bytes:
    """A digest of everything the rendered bytes depend on (the operator is fixed per process)."""
    parts = [fmt, radio, ap.id, ap.site_id, ap.platform, ap.nas_identifier, ap.radios, ap.bssids, ap.secret_ref,
             site.name,
             site.name_en, site.category, site.municipality_code, site.lat, site.lon, site.address, site.url,
             disaster.until.isoformat() if disaster.until else None, disaster.reason, disaster.owe]
    return hashlib.sha256(json.dumps(parts, default=str, ensure_ascii=False).encode()).digest()


@dataclass(frozen=True, slots=True)
class Rendered:
    body: bytes
    etag: str
    media_type: str
    disaster_until: datetime | None


class ConfigRenderer:
    """Renders configs over the registry rows, remembering the last ``size`` results by input digest.

    An AP whose ``secret_ref`` is ``file:NAME`` gets the RADIUS secret in ``secrets_dir/NAME`` (the one
    the ANP checks it with); otherwise the operator's ``[secrets]`` value.
    """

    def __init__(self, operator: OperatorConfig, secrets_dir: Path | None = None, size: int = 50_000) -> None:
        self.operator = operator
        self.secrets_dir = secrets_dir
        self.size = size
        self._cache: OrderedDict[bytes, Rendered] = OrderedDict()

    def _secrets(self, ap: ApRow) -> Mapping[str, str]:
        ref = ap.secret_ref or ""
        if self.secrets_dir is None or not ref.startswith("file:"):
            return self.operator.secrets
        try:
            value = (self.secrets_dir / ref.removeprefix("file:")).read_text(encoding="utf-8").strip()
        except OSError:
            raise Unrenderable("secret_ref", f"the secret {ref} cannot be read") from None
        return {**self.operator.secrets, self.operator.operator.radius.secret_ref: value}

    def render(self, ap: ApRow, site: SiteRow, disaster: DisasterState, fmt: str, radio: str | None,
               now: datetime) -> Rendered:
        if disaster.until is not None and not disaster.active(now):
            disaster = NO_DISASTER
        key = input_digest(ap, site, disaster, fmt, radio)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        done = self._render(ap, site, disaster, fmt, radio, now)
        self._cache[key] = done
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return done

    def _render(self, ap: ApRow, site: SiteRow, disaster: DisasterState, fmt: str, radio: str | None,
                now: datetime) -> Rendered:
        try:
            plan = plan_ap(self.operator.operator, site_model(site), ap_model(ap), disaster, now)
        except ModelError as exc:
            raise Unrenderable(exc.field, exc.problem) from None
        secrets = self._secrets(ap)
        if fmt == "json":
            body = render_json(plan, secrets)
        elif fmt == "openwrt":
            body = render_openwrt(plan, secrets)
        else:
            files = render_hostapd(plan, secrets)
            wanted = f"hostapd-{radio}.conf" if radio else next(iter(files))
            if wanted not in files:
                raise Unrenderable("radio", f"no radio {radio!r} on this AP")
            body = files[wanted]
        etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        return Rendered(body, etag, FORMATS[fmt], plan.disaster_until)


def no_disaster(ap: ApRow, site: SiteRow, now: datetime) -> DisasterState:
    return NO_DISASTER


def disaster_lookup(extras: Mapping[str, Any]) -> DisasterLookup:
    lookup = extras.get("disaster")
    return lookup if callable(lookup) else no_disaster
