"""Pydantic shapes of the registry resources in the API (the OpenAPI document is made from these).

They mirror :mod:`tsunagaru.sites.views` (the service results) field for field; input models are
loose on purpose where the registry's own validation (:mod:`tsunagaru.sites.fields`) is the judge, so
that the API, the pages and the importers refuse exactly the same things with the same field names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tsunagaru.sites.fields import CATEGORIES

# checked by tsunagaru.sites.fields (one typed error for the API, the pages and the importers), named here
CATEGORY_DOC = "one of: " + ", ".join(CATEGORIES)

Text300 = Field(default=None, max_length=300)


class SiteOut(BaseModel):
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


class SiteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    name_kana: str | None = Field(default=None, max_length=300)
    category: str = Field(default="other", max_length=32, description=CATEGORY_DOC)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=400)
    address_extra: str | None = Field(default=None, max_length=400)
    municipality_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    operator_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    installer: str | None = Field(default=None, max_length=200)
    ssid: str | None = Field(default=None, max_length=32)
    url: str | None = Field(default=None, max_length=500)
    state: str = Field(default="active", max_length=16)


class SitePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=300)
    name_en: str | None = Field(default=None, max_length=300)
    name_kana: str | None = Field(default=None, max_length=300)
    category: str | None = Field(default=None, max_length=32, description=CATEGORY_DOC)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    address: str | None = Field(default=None, max_length=400)
    address_extra: str | None = Field(default=None, max_length=400)
    municipality_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    operator_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    ssid: str | None = Field(default=None, max_length=32)
    url: str | None = Field(default=None, max_length=500)
    state: str | None = Field(default=None, max_length=16)


class Radio(BaseModel):
    model_config = ConfigDict(extra="forbid")
    band: Literal["2g", "5g", "6g"]
    channel: int | None = Field(default=None, ge=1, le=233)


class ApOut(BaseModel):
    id: int
    site_id: int
    municipality_code: str | None
    config_state: str
    name: str
    platform: str
    state: str
    operator_id: int | None = None
    radios: list[dict[str, Any]] = []
    bssids: list[str] = []
    nas_network: str | None = None
    nas_identifier: str | None = None
    secret_ref: str | None = None
    radsec_name: str | None = None
    config_version: str | None = None
    config_served_at: datetime | None = None
    reported_version: str | None = None
    reported_at: datetime | None = None
    report_result: str | None = None
    report_log: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ApIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    site_id: int = Field(ge=1, le=2**31 - 1)
    name: str = Field(min_length=1, max_length=100)
    platform: Literal["hostapd", "openwrt", "other"] = "hostapd"
    radios: list[Radio] = Field(default_factory=list, max_length=8)
    bssids: list[str] = Field(default_factory=list, max_length=32)
    nas_network: str | None = Field(default=None, max_length=64)
    nas_identifier: str | None = Field(default=None, max_length=253)
    secret_ref: str | None = Field(default=None, max_length=200)
    radsec_name: str | None = Field(default=None, max_length=253)
    state: Literal["active", "disabled"] = "active"


class ApPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=100)
    platform: Literal["hostapd", "openwrt", "other"] | None = None
    radios: list[Radio] | None = Field(default=None, max_length=8)
    bssids: list[str] | None = Field(default=None, max_length=32)
    nas_network: str | None = Field(default=None, max_length=64)
    nas_identifier: str | None = Field(default=None, max_length=253)
    secret_ref: str | None = Field(default=None, max_length=200)
    radsec_name: str | None = Field(default=None, max_length=253)
    state: Literal["active", "disabled"] | None = None


class OrganisationOut(BaseModel):
    id: int
    name: str
    name_en: str | None
    kind: str
    municipality_code: str | None
    state: str
    contact_email: str | None
    created_at: datetime
    updated_at: datetime


class OrganisationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    kind: Literal["city", "municipality", "site-operator"] = "site-operator"
    municipality_code: str | None = Field(default=None, pattern=r"^\d{6}$")
    contact_email: str | None = Field(default=None, max_length=254)
    note: str | None = Field(default=None, max_length=2000)


class Application(BaseModel):
    """A private facility asking to join as a site-operator organisation (no account needed)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    contact_email: str = Field(min_length=3, max_length=254)
    note: str | None = Field(default=None, max_length=2000)


class MunicipalityOut(BaseModel):
    code: str
    name: str
    name_en: str | None
    name_kana: str | None
    pref_code: str
    kind: str


class AuditOut(BaseModel):
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
    note: str | None = None


# fields a PATCH may leave out but not set to null (the registry has no "nothing" for them)
NOT_NULL = frozenset({"name", "category", "state", "platform", "radios", "bssids", "kind"})


def dump(model: BaseModel) -> dict[str, Any]:
    """The fields the caller sent (PATCH semantics), as plain JSON values for the registry services."""
    data = model.model_dump(mode="json", exclude_unset=True)
    for key in sorted(NOT_NULL & data.keys()):
        if data[key] is None:
            from tsunagaru.sites.errors import Invalid

            raise Invalid(f"{key} cannot be null", field=key)
    return data
