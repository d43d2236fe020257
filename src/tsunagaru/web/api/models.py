"""Pydantic shapes of the registry resources in the API (the OpenAPI document is made from these).

The output models are made from :mod:`tsunagaru.sites.views` (the service results), so a field is declared
once, in its view, and the API says what the services return; input models are loose on purpose where
the registry's own validation (:mod:`tsunagaru.sites.fields`) is the judge, so
that the API, the pages and the importers refuse exactly the same things with the same field names.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal, get_type_hints

from pydantic import BaseModel, ConfigDict, Field, create_model

from tsunagaru.sites.fields import CATEGORIES
from tsunagaru.sites.views import ApView, AuditView, MunicipalityView, OrganisationView, SiteView

# checked by tsunagaru.sites.fields (one typed error for the API, the pages and the importers), named here
CATEGORY_DOC = "one of: " + ", ".join(CATEGORIES)

Text300 = Field(default=None, max_length=300)


def out_model(view: type[Any], name: str) -> type[BaseModel]:
    """A pydantic model with the fields of the frozen dataclass ``view``: same names, types and defaults."""
    hints = get_type_hints(view)
    fields: dict[str, Any] = {f.name: (hints[f.name], ... if f.default is dataclasses.MISSING else f.default)
                              for f in dataclasses.fields(view)}
    return create_model(name, __module__=__name__, **fields)


if TYPE_CHECKING:  # mypy sees models; at run time each is made from its view
    SiteOut = BaseModel
    ApOut = BaseModel
    OrganisationOut = BaseModel
    MunicipalityOut = BaseModel
    AuditOut = BaseModel
else:
    SiteOut = out_model(SiteView, "SiteOut")
    ApOut = out_model(ApView, "ApOut")
    OrganisationOut = out_model(OrganisationView, "OrganisationOut")
    MunicipalityOut = out_model(MunicipalityView, "MunicipalityOut")
    AuditOut = out_model(AuditView, "AuditOut")


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
