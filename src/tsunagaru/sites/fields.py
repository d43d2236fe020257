"""Validation of site and AP fields (pure): a clean dict of known fields, or :class:`Invalid` naming the field.

Create and update share one function (``partial=True`` for updates: only the given fields), so the
API, the pages, the CLI and the JSON import accept and refuse exactly the same things.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping
from typing import Any

from tsunagaru.sites.errors import Invalid

CATEGORIES = ("phone-booth", "signage", "park", "transport", "tourist-info", "facility", "municipal", "station",
              "shop", "hotel", "shelter", "library", "other")
SITE_STATES = ("active", "planned", "retired")
AP_STATES = ("active", "disabled")
PLATFORMS = ("hostapd", "openwrt", "other")
BANDS = ("2g", "5g", "6g")

# Japan's extent with a margin (Okinotorishima 20.4N, Minamitorishima 153.98E, Yonaguni 122.9E, Etorofu 45.5N)
LAT_RANGE = (20.0, 46.0)
LON_RANGE = (122.0, 154.5)

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
_SECRET_REF = re.compile(r"^file:[A-Za-z0-9._-]{1,100}$")
_DNS_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]{1,63}$")
_CODE = re.compile(r"^[0-9]{6}$")
_CONTROL = re.compile(r"[\x00-\x1f]")
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(\.{_OCTET}){{3}}")

SITE_FIELDS = ("name", "name_kana", "name_en", "category", "lat", "lon", "address", "address_extra",
               "municipality_code", "operator_id", "installer", "ssid", "url", "state", "source", "source_id",
               "checked_on")
AP_FIELDS = ("site_id", "name", "platform", "radios", "bssids", "nas_network", "nas_identifier", "secret_ref",
             "radsec_name", "state")


def _text(data: Mapping[str, Any], key: str, limit: int, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise Invalid(f"{key} is required", field=key)
        return None
    if not isinstance(value, str):
        raise Invalid(f"{key} must be text", field=key)
    value = value.strip()
    if len(value) > limit:
        raise Invalid(f"{key} is longer than {limit} characters", field=key)
    if _CONTROL.search(value):
        raise Invalid(f"{key} contains control characters", field=key)
    return value


def _choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...], default: str | None) -> str | None:
    value = data.get(key, default)
    if value is None:
        return None
    if value not in choices:
        raise Invalid(f"{key} must be one of {', '.join(choices)}", field=key)
    return str(value)


def _coordinate(data: Mapping[str, Any], key: str, lo_hi: tuple[float, float]) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Invalid(f"{key} must be a number", field=key)
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{key} must be a number", field=key) from None
    if not math.isfinite(number) or not lo_hi[0] <= number <= lo_hi[1]:
        raise Invalid(f"{key} {number} is outside Japan ({lo_hi[0]} to {lo_hi[1]})", field=key)
    return number


def _optional_int(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise Invalid(f"{key} must be a positive integer id", field=key)
    return value


def _unknown(data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(set(data) - set(allowed))
    if extra:
        raise Invalid(f"unknown field {extra[0]!r}", field=extra[0])


def site_fields(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The site fields in ``data``, checked and normalised (all of them unless ``partial``)."""
    _unknown(data, SITE_FIELDS)
    out: dict[str, Any] = {
        "name": _text(data, "name", 300, required=not partial or "name" in data),
        "name_kana": _text(data, "name_kana", 300),
        "name_en": _text(data, "name_en", 300),
        "category": _choice(data, "category", CATEGORIES, None if partial else "other"),
        "lat": _coordinate(data, "lat", LAT_RANGE),
        "lon": _coordinate(data, "lon", LON_RANGE),
        "address": _text(data, "address", 400),
        "address_extra": _text(data, "address_extra", 400),
        "municipality_code": _text(data, "municipality_code", 6),
        "operator_id": _optional_int(data, "operator_id"),
        "installer": _text(data, "installer", 200),
        "ssid": _text(data, "ssid", 32),
        "url": _text(data, "url", 500),
        "state": _choice(data, "state", SITE_STATES, None if partial else "active"),
        "source": _text(data, "source", 64),
        "source_id": _text(data, "source_id", 64),
        "checked_on": _text(data, "checked_on", 10),
    }
    code = out["municipality_code"]
    if code is not None and not _CODE.match(code):
        raise Invalid("municipality_code must be a 6-digit local government code", field="municipality_code")
    if (out["lat"] is None) != (out["lon"] is None) and not partial:
        raise Invalid("lat and lon go together", field="lat" if out["lat"] is None else "lon")
    if out["url"] is not None and not re.match(r"^https?://", out["url"]):
        raise Invalid("url must start with http:// or https://", field="url")
    if partial:
        return {k: v for k, v in out.items() if k in data}
    return out


def _mac(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{key} must be MAC addresses", field=key)
    mac = value.strip().lower().replace("-", ":")
    if not _MAC.match(mac):
        raise Invalid(f"{key}: {value!r} is not a MAC address (aa:bb:cc:dd:ee:ff)", field=key)
    return mac


def _radios(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > 8:
        raise Invalid("radios must be a list of at most 8 radios", field="radios")
    out = []
    for i, radio in enumerate(value):
        if not isinstance(radio, Mapping) or set(radio) - {"band", "channel"} or radio.get("band") not in BANDS:
            raise Invalid(f"radios[{i}] must be {{band: 2g|5g|6g, channel: N}}", field="radios")
        channel = radio.get("channel")
        if channel is not None and (isinstance(channel, bool) or not isinstance(channel, int) or not 0 < channel < 234):
            raise Invalid(f"radios[{i}].channel must be a channel number", field="radios")
        out.append({"band": radio["band"], "channel": channel})
    return out


def ap_fields(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """The AP fields in ``data``, checked and normalised; a complete AP needs a NAS identity."""
    _unknown(data, AP_FIELDS)
    out: dict[str, Any] = {
        "site_id": _optional_int(data, "site_id"),
        "name": _text(data, "name", 100, required=not partial or "name" in data),
        "platform": _choice(data, "platform", PLATFORMS, None if partial else "hostapd"),
        "radios": _radios(data.get("radios", [])),
        "nas_identifier": _text(data, "nas_identifier", 253),
        "secret_ref": _text(data, "secret_ref", 200),
        "radsec_name": _text(data, "radsec_name", 253),
        "state": _choice(data, "state", AP_STATES, None if partial else "active"),
    }
    bssids = data.get("bssids", [])
    if not isinstance(bssids, list) or len(bssids) > 32:
        raise Invalid("bssids must be a list of at most 32 MAC addresses", field="bssids")
    out["bssids"] = sorted({_mac(b, "bssids") for b in bssids})
    network = _text(data, "nas_network", 64)
    if network is not None and _IPV4.fullmatch(network):
        network += "/32"  # the common case, without ipaddress's cost (an import has tens of thousands)
    elif network is not None:
        try:
            network = str(ipaddress.ip_network(network, strict=False))
        except ValueError:
            raise Invalid(f"nas_network {network!r} is not an IP address or CIDR", field="nas_network") from None
    out["nas_network"] = network
    if out["secret_ref"] is not None and not _SECRET_REF.match(out["secret_ref"]):
        raise Invalid("secret_ref must be file:NAME (the secret itself is never stored)", field="secret_ref")
    if out["radsec_name"] is not None and not _DNS_NAME.match(out["radsec_name"]):
        raise Invalid("radsec_name must be the certificate's DNS name", field="radsec_name")
    if not partial:
        if out["site_id"] is None:
            raise Invalid("site_id is required", field="site_id")
        check_nas_identity(out)
        return out
    return {k: v for k, v in out.items() if k in data}


def check_nas_identity(ap: Mapping[str, Any]) -> None:
    """RADIUS/UDP APs need a source network and a secret reference; RadSec APs a certificate name."""
    udp = ap.get("nas_network") is not None and ap.get("secret_ref") is not None
    if not udp and ap.get("radsec_name") is None:
        field = "nas_network" if ap.get("nas_network") is None else "secret_ref"
        raise Invalid("an AP needs nas_network and secret_ref (RADIUS/UDP) or radsec_name (RadSec)", field=field)
