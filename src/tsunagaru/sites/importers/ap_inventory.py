"""The AP inventory CSV (one row per access point) -> AP records + a report (pure).

Columns (header names as written; order free; UTF-8 or cp932):

    site_id          the registry's site id, or instead:
    site_source      the site's source (e.g. 130001) and
    site_source_id   its id in that source (the Wi-Fi list's NO)
    name             the AP's name, unique within its site (the key for re-imports)
    platform         hostapd | openwrt | other (default hostapd)
    bssids           MAC addresses separated by spaces or ';'
    radios           band:channel pairs separated by ';' (2g:6;5g:36)
    nas_network      the AP's RADIUS source address or CIDR (RADIUS/UDP APs)
    nas_identifier   NAS-Identifier it sends (optional)
    secret_ref       file:NAME of its RADIUS secret (never the secret itself)
    radsec_name      the DNS name in its client certificate (RadSec APs, instead of network + secret)
    state            active | disabled (default active)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tsunagaru.sites.errors import Invalid
from tsunagaru.sites.fields import ap_fields
from tsunagaru.sites.importers.csvtext import MAX_BYTES, decode, normalise_header, rows
from tsunagaru.sites.importers.report import Report

COLUMNS = ("site_id", "site_source", "site_source_id", "name", "platform", "bssids", "radios", "nas_network",
           "nas_identifier", "secret_ref", "radsec_name", "state")


@dataclass(frozen=True)
class ApRecord:
    row: int
    site_id: int | None
    site_key: tuple[str, str] | None  # (source, source id) when the site is named that way
    fields: dict[str, Any]  # checked AP fields without site_id


def _radios(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        band, _, channel = part.partition(":")
        out.append({"band": band.strip().lower(), "channel": int(channel) if channel.strip().isdigit() else None})
    return out


def parse(data: bytes, *, name: str = "", limit: int | None = None) -> tuple[list[ApRecord], Report]:
    report = Report(source=name)
    if limit is not None:
        report.limit = limit
    if len(data) > MAX_BYTES:
        report.add("file-too-large", f"{len(data)} bytes, the limit is {MAX_BYTES}")
        return [], report
    header, body = rows(decode(data, report), report)
    keys = {normalise_header(h): h for h in header}
    for key, written in keys.items():
        if key not in COLUMNS:
            report.add("header-unknown-column", f"column {written!r} is not used", row=1, column=written)
    missing = [c for c in ("name",) if c not in keys]
    if "site_id" not in keys and not {"site_source", "site_source_id"} <= set(keys):
        missing.append("site_id")
    for column in missing:
        report.add("header-missing-column", f"no {column} column", row=1, column=column)
    records: list[ApRecord] = []
    seen: dict[tuple[object, str], int] = {}
    for row in body:
        report.rows += 1
        if missing:
            continue
        cells = row.cells
        site_id: int | None = None
        site_key = None
        if cells.get("site_id"):
            if not re.fullmatch(r"[0-9]{1,12}", cells["site_id"]):
                report.add("value-invalid", "site_id is not a number", row=row.number, column="site_id",
                           value=cells["site_id"])
                continue
            site_id = int(cells["site_id"])
        elif cells.get("site_source_id"):
            site_key = (cells.get("site_source", ""), cells["site_source_id"])
        else:
            report.add("required-empty", "no site_id or site_source_id", row=row.number, column="site_id", value="")
            continue
        raw: dict[str, Any] = {k: cells[k] for k in ("name", "platform", "nas_network", "nas_identifier",
                                                      "secret_ref", "radsec_name", "state") if cells.get(k)}
        raw["bssids"] = [b for b in re.split(r"[\s;,]+", cells.get("bssids", "")) if b]
        try:
            raw["radios"] = _radios(cells.get("radios", ""))
            fields = ap_fields({**raw, "site_id": site_id or 1})
        except (Invalid, ValueError) as exc:
            field = getattr(exc, "field", None) or "radios"
            code = "required-empty" if field == "name" and not raw.get("name") else "value-invalid"
            report.add(code, getattr(exc, "message", str(exc)), row=row.number, column=field,
                       value=str(cells.get(field, "")))
            continue
        fields.pop("site_id")
        ident = (site_id if site_id is not None else site_key, fields["name"])
        if ident in seen:
            report.add("duplicate-id", f"the same site and AP name as row {seen[ident]}", row=row.number,
                       column="name", value=fields["name"])
            continue
        seen[ident] = row.number
        records.append(ApRecord(row.number, site_id, site_key, fields))
    report.accepted = len(records)
    return records, report
