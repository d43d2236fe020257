"""What the registry services return: frozen dataclasses, not ORM rows (no lazy loads, no accidental writes).

``to_json()`` gives the field names of the demo contract (``GET /api/v1/sites`` items carry ``id``, ``name``,
``name_en``, ``municipality_code``, ``lat``, ``lon``, ``category``, ``state``; APs ``id``, ``site_id``,
``municipality_code``, ``config_state``...), so the web app can serialise them as they are.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from tsunagaru.store.registry_tables import AccessPoint, AuditEntry, Municipality, Organisation, Site

T = TypeVar("T")


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, tuple | list):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value


class _Json:
    def to_json(self) -> dict[str, Any]:
        return {k: _json(v) for k, v in asdict(self).items()}  # type: ignore[call-overload]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: the items, how many there are in all, and the window asked for."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class MunicipalityView(_Json):
    code: str
    name: str
    name_en: str | None
    name_kana: str | None
    pref_code: str
    kind: str

    @classmethod
    def of(cls, row: Municipality) -> MunicipalityView:
        return cls(row.code, row.name_ja, row.name_en, row.name_kana, row.pref_code, row.kind)


@dataclass(frozen=True)
class OrganisationView(_Json):
    id: int
    name: str
    name_en: str | None
    kind: str
    municipality_code: str | None
    state: str
    contact_email: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Organisation) -> OrganisationView:
        return cls(row.id, row.name, row.name_en, row.kind, row.municipality_code, row.state, row.contact_email,
                   row.created_at, row.updated_at)


@dataclass(frozen=True)
class SiteView(_Json):
    id: int
    name: str
    name_en: str | None
    municipality_code: str | None
    lat: float | None
    lon: float | None
    category: str
    state: str
    name_kana: str | None = None
    address: str | None = None
    address_extra: str | None = None
    operator_id: int | None = None
    installer: str | None = None
    ssid: str | None = None
    url: str | None = None
    source: str | None = None
    source_id: str | None = None
    checked_on: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, row: Site) -> SiteView:
        return cls(row.id, row.name, row.name_en, row.municipality_code, row.lat, row.lon, row.category, row.state,
                   row.name_kana, row.address, row.address_extra, row.operator_id, row.installer, row.ssid, row.url,
                   row.source, row.source_id, row.checked_on, row.created_at, row.updated_at)


@dataclass(frozen=True)
class ApView(_Json):
    id: int
    site_id: int
    municipality_code: str | None
    config_state: str
    name: str
    platform: str
    state: str
    operator_id: int | None = None
    radios: tuple[dict[str, Any], ...] = ()
    bssids: tuple[str, ...] = ()
    nas_network: str | None = None
    nas_identifier: str | None = None
    secret_ref: str | None = None
    radsec_name: str | None = None
    config_version: str | None = None
    config_served_at: datetime | None = None
    polled_at: datetime | None = None
    reported_version: str | None = None
    reported_at: datetime | None = None
    report_result: str | None = None
    report_log: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of(cls, row: AccessPoint, site: Site, config_state: str) -> ApView:
        return cls(row.id, row.site_id, site.municipality_code, config_state, row.name, row.platform, row.state,
                   site.operator_id, tuple(row.radios or ()), tuple(row.bssids or ()), row.nas_network,
                   row.nas_identifier, row.secret_ref, row.radsec_name, row.config_version, row.config_served_at,
                   row.polled_at,
                   row.reported_version, row.reported_at, row.report_result, row.report_log, row.created_at,
                   row.updated_at)


@dataclass(frozen=True)
class AuditView(_Json):
    id: int
    at: datetime
    actor: str
    role: str
    action: str
    resource_type: str
    resource_id: str
    municipality_code: str | None
    organisation_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None = field(default=None)

    @classmethod
    def of(cls, row: AuditEntry) -> AuditView:
        return cls(row.id, row.at, row.actor, row.role, row.action, row.resource_type, row.resource_id,
                   row.municipality_code, row.organisation_id, row.before, row.after, row.note)
