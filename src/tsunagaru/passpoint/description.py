"""The AP description file (TOML) that ``tsunagaru passpoint example`` prints and ``render`` reads.

It carries the same things the registry holds (operator, site, AP with radios, the disaster table) plus
a ``[secrets]`` table for the RADIUS secret when rendering from files. Every problem is a
:class:`DescriptionError` naming the field by its TOML path (``ap.radios[1].channel``); parsing never
stops at a traceback. tomllib (stdlib) reads the TOML; the typing on top is ours.
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tsunagaru.passpoint.anqp import AnqpError, CellNetwork, LangText
from tsunagaru.passpoint.model import (
    AccessPoint,
    Band,
    DisasterState,
    ModelError,
    Operator,
    Platform,
    Radio,
    RadiusEndpoint,
    RadsecEndpoint,
    Security,
    Site,
)
from tsunagaru.passpoint.nai_realm import NaiRealm, NaiRealmError, offered
from tsunagaru.passpoint.venues import SiteCategory

T = TypeVar("T")
E = TypeVar("E")
MAX_RADIOS, MAX_LIST = 8, 32


class DescriptionError(ModelError):
    """A field of the description is missing, of the wrong type, or not a valid value."""


@dataclass(frozen=True, slots=True)
class Description:
    operator: Operator
    site: Site
    ap: AccessPoint
    disaster: DisasterState  # ``until`` may be None: the CLI then picks now + 72 h with --disaster
    secrets: dict[str, str]


def parse_description(text: str) -> Description:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DescriptionError("<file>", f"not valid TOML: {exc}") from None
    op, site, ap = _table(doc, "operator"), _table(doc, "site"), _table(doc, "ap")
    try:
        return Description(_operator(op), _site(site), _ap(ap), _disaster(doc.get("disaster", {})),
                           _secrets(doc.get("secrets", {})))
    except DescriptionError:
        raise
    except ModelError as exc:
        raise DescriptionError(exc.field, exc.problem) from None


def _table(parent: dict[str, Any], path: str) -> dict[str, Any]:
    value = parent.get(path.rsplit(".", 1)[-1])
    if not isinstance(value, dict):
        raise DescriptionError(path, "is required (a table)")
    return value


def _get(parent: dict[str, Any], path: str, kind: type[T], default: T | None = None) -> T:
    value = parent.get(path.rsplit(".", 1)[-1], default)
    if value is None:
        raise DescriptionError(path, "is required")
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise DescriptionError(path, f"must be {kind.__name__}, not {type(value).__name__}")
    return value


def _opt(parent: dict[str, Any], path: str, kind: type[T]) -> T | None:
    return _get(parent, path, kind) if path.rsplit(".", 1)[-1] in parent else None


def _strings(parent: dict[str, Any], path: str, default: list[str] | None = None) -> tuple[str, ...]:
    items = _get(parent, path, list, default)
    if len(items) > MAX_LIST:
        raise DescriptionError(path, f"at most {MAX_LIST} entries")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise DescriptionError(f"{path}[{i}]", "must be a string")
    return tuple(items)


def _enum(parent: dict[str, Any], path: str, kind: Callable[[str], E], default: str) -> E:
    value = _get(parent, path, str, default)
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(str(v) for v in kind)  # type: ignore[attr-defined]
        raise DescriptionError(path, f"{value!r} is not one of: {choices}") from None


def _names(parent: dict[str, Any], path: str) -> tuple[LangText, ...]:
    table = _table(parent, path)
    try:
        return tuple(LangText(lang, _get(table, f"{path}.{lang}", str)) for lang in sorted(table, key=_lang_order))
    except AnqpError as exc:
        raise DescriptionError(path, str(exc)) from None


def _lang_order(lang: str) -> tuple[int, str]:
    return ({"eng": 0, "jpn": 1}.get(lang, 2), lang)


def _operator(op: dict[str, Any]) -> Operator:
    realms = []
    entries = _get(op, "operator.realms", list)
    for i, entry in enumerate(entries[:MAX_LIST]):
        path = f"operator.realms[{i}]"
        if not isinstance(entry, dict):
            raise DescriptionError(path, "must be a table with realms and methods")
        try:
            realms.append(NaiRealm(_strings(entry, f"{path}.realms"), offered(_strings(entry, f"{path}.methods"))))
        except NaiRealmError as exc:
            raise DescriptionError(path, str(exc)) from None
    cells = []
    for i, text in enumerate(_strings(op, "operator.cell_networks", [])):
        mcc, _, mnc = text.partition(",")
        try:
            cells.append(CellNetwork(mcc.strip(), mnc.strip()))
        except AnqpError as exc:
            raise DescriptionError(f"operator.cell_networks[{i}]", str(exc)) from None
    radius = _table(op, "operator.radius")
    radsec = op.get("radsec")
    if radsec is not None and not isinstance(radsec, dict):
        raise DescriptionError("operator.radsec", "must be a table with host and port")
    return Operator(
        wbaid=_get(op, "operator.wbaid", str), ssid=_get(op, "operator.ssid", str),
        friendly_names=_names(op, "operator.friendly_names"), rcois=_strings(op, "operator.rcois"),
        domains=_strings(op, "operator.domains"), realms=tuple(realms),
        radius=RadiusEndpoint(_get(radius, "operator.radius.host", str),
                              _get(radius, "operator.radius.secret_ref", str),
                              _get(radius, "operator.radius.auth_port", int, 1812),
                              _get(radius, "operator.radius.acct_port", int, 1813)),
        security=_enum(op, "operator.security", Security, "wpa2"),
        radsec=RadsecEndpoint(_get(radsec, "operator.radsec.host", str),
                              _get(radsec, "operator.radsec.port", int, 2083)) if isinstance(radsec, dict) else None,
        interim_interval=_get(op, "operator.interim_interval", int, 600), cell_networks=tuple(cells),
        anqp_domain_id=_get(op, "operator.anqp_domain_id", int, 0),
        disaster_owe=_get(op, "operator.disaster_owe", bool, False), country=_get(op, "operator.country", str, "JP"),
    )


def _site(s: dict[str, Any]) -> Site:
    venue = s.get("venue")
    override = None
    if venue is not None:
        if not (isinstance(venue, list) and len(venue) == 2 and all(isinstance(v, int) for v in venue)):
            raise DescriptionError("site.venue", "must be [group, type]")
        override = (venue[0], venue[1])
    return Site(
        id=_get(s, "site.id", str), name_ja=_get(s, "site.name_ja", str), name_en=_get(s, "site.name_en", str),
        category=_enum(s, "site.category", SiteCategory, ""), municipality_code=_get(s, "site.municipality_code", str),
        lat=_opt(s, "site.lat", float), lon=_opt(s, "site.lon", float), address=_get(s, "site.address", str, ""),
        url_ja=_opt(s, "site.url_ja", str), url_en=_opt(s, "site.url_en", str), venue_override=override,
    )


def _ap(a: dict[str, Any]) -> AccessPoint:
    radios = []
    items = _get(a, "ap.radios", list)
    if len(items) > MAX_RADIOS:
        raise DescriptionError("ap.radios", f"at most {MAX_RADIOS} radios")
    for i, r in enumerate(items):
        path = f"ap.radios[{i}]"
        if not isinstance(r, dict):
            raise DescriptionError(path, "must be a table")
        try:
            radios.append(Radio(
                name=_get(r, f"{path}.name", str), band=_enum(r, f"{path}.band", Band, ""),
                channel=_get(r, f"{path}.channel", int), interface=_get(r, f"{path}.interface", str),
                bssids=_strings(r, f"{path}.bssids", []),
                disaster_interface=_get(r, f"{path}.disaster_interface", str, ""),
                owe_interface=_get(r, f"{path}.owe_interface", str, ""),
                bridge=_get(r, f"{path}.bridge", str, "br-lan"),
            ))
        except DescriptionError:
            raise
        except ModelError as exc:
            raise DescriptionError(exc.field.replace("radio.", f"{path}.", 1), exc.problem) from None
    case = _get(a, "ap.rcoi_case", str, "upper")
    if case not in ("upper", "lower"):
        raise DescriptionError("ap.rcoi_case", "must be upper or lower")
    return AccessPoint(
        id=_get(a, "ap.id", str), site_id=_get(a, "ap.site_id", str), nas_identifier=_get(a, "ap.nas_identifier", str),
        radios=tuple(radios), platform=_enum(a, "ap.platform", Platform, "hostapd"),
        rcoi_case="upper" if case == "upper" else "lower", hessid=_opt(a, "ap.hessid", str),
        ctrl_interface=_get(a, "ap.ctrl_interface", str, "/var/run/hostapd"),
    )


def _disaster(d: Any) -> DisasterState:
    if not isinstance(d, dict):
        raise DescriptionError("disaster", "must be a table")
    until = d.get("until")
    if until is not None and not (isinstance(until, datetime.datetime) and until.tzinfo is not None):
        raise DescriptionError("disaster.until", "must be a TOML date-time with an offset (2026-12-04T00:00:00Z)")
    owe = d.get("owe")
    if owe is not None and not isinstance(owe, bool):
        raise DescriptionError("disaster.owe", "must be true or false")
    return DisasterState(until=until.astimezone(datetime.UTC) if until else None,
                         reason=_get(d, "disaster.reason", str, ""), owe=owe)


def _secrets(s: Any) -> dict[str, str]:
    if not isinstance(s, dict):
        raise DescriptionError("secrets", "must be a table of name = value")
    for name, value in s.items():
        if not isinstance(value, str):
            raise DescriptionError(f"secrets.{name}", "must be a string")
    return dict(s)
