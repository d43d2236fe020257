"""The whole registry as one JSON document, and back (for backups, moves between databases, reviews).

Organisations are referenced by name and sites by ``source`` + ``source_id`` (or the site id when a site
has no source), so a dump loads into another database whose ids differ. Import goes through the
services: the same validation, scope and audit as any other change, one report entry per refused item.
The audit log itself is not exported here (it is append-only and belongs to the database it describes).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagaru.sites import service
from tsunagaru.sites.errors import RegistryError
from tsunagaru.sites.fields import AP_FIELDS, SITE_FIELDS
from tsunagaru.sites.importers.report import Report
from tsunagaru.sites.scope import Principal, may_manage_tenants
from tsunagaru.sites.tenants import ORG_FIELDS
from tsunagaru.store.registry_tables import AccessPoint, Municipality, Organisation, Site

FORMAT = "tsunagaru-registry"
VERSION = 1
MAX_ITEMS = 1_000_000


def export(session: Session, p: Principal, *, now: datetime | None = None) -> dict[str, Any]:
    """Everything ``p`` may read (a city admin: everything), as plain JSON values."""
    if not may_manage_tenants(p):
        raise service.Forbidden("only a city admin exports the whole registry")
    orgs = {o.id: o for o in session.scalars(select(Organisation).order_by(Organisation.id))}
    sites = list(session.scalars(select(Site).order_by(Site.id)))
    keys = {s.id: _site_key(s) for s in sites}
    return {
        "format": FORMAT, "version": VERSION, "exported_at": (now or datetime.now(UTC)).isoformat(),
        "municipalities": [{"code": m.code, "pref_code": m.pref_code, "name_ja": m.name_ja, "name_kana": m.name_kana,
                            "name_en": m.name_en, "kind": m.kind}
                           for m in session.scalars(select(Municipality).order_by(Municipality.code))],
        "organisations": [{k: getattr(o, k) for k in ORG_FIELDS} for o in orgs.values()],
        "sites": [{**{k: getattr(s, k) for k in SITE_FIELDS if k != "operator_id"}, "id": s.id,
                   "operator": orgs[s.operator_id].name if s.operator_id in orgs else None} for s in sites],
        "aps": [{**{k: getattr(a, k) for k in AP_FIELDS if k != "site_id"}, "site": keys[a.site_id]}
                for a in session.scalars(select(AccessPoint).order_by(AccessPoint.id))],
    }


def _site_key(site: Site) -> dict[str, Any]:
    if site.source_id is not None:
        return {"source": site.source, "source_id": site.source_id}
    return {"id": site.id}


def dumps(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=1, sort_keys=True)


def _items(doc: dict[str, Any], key: str, report: Report) -> list[dict[str, Any]]:
    value = doc.get(key, [])
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        report.add("document-invalid", f"{key} must be a list (at most {MAX_ITEMS})", column=key)
        return []
    good = []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            good.append(item)
        else:
            report.add("item-refused", "not an object", row=i, column=key)
    return good


def load(session: Session, p: Principal, document: Any, *, now: datetime | None = None,
         progress: Callable[[int], None] | None = None) -> Report:
    """Upsert a document from :func:`export`; returns the report (rows are list indexes)."""
    report = Report(source="registry.json")
    if not isinstance(document, dict) or document.get("format") != FORMAT or document.get("version") != VERSION:
        report.add("document-invalid", f"not a {FORMAT} document of version {VERSION}", column="format")
        return report
    if not may_manage_tenants(p):
        raise service.Forbidden("only a city admin imports the whole registry")
    when = now or datetime.now(UTC)

    def attempt(key: str, i: int, action: Callable[..., Any], *args: Any) -> Any:
        report.rows += 1
        try:
            # a savepoint per item: a refused item leaves nothing behind, the others stay
            with session.begin_nested():
                result = action(session, p, *args, now=when)
            report.accepted += 1
            return result
        except RegistryError as exc:
            report.add("item-refused", exc.message, row=i, column=f"{key}.{exc.field or ''}".rstrip("."))
            return None
        finally:
            if progress:
                progress(1)

    municipalities = _items(document, "municipalities", report)
    if municipalities:
        attempt("municipalities", 0, service.upsert_municipalities, municipalities)
    names = {o.name: o.id for o in session.scalars(select(Organisation))}
    for i, org in enumerate(_items(document, "organisations", report)):
        data = {k: org.get(k) for k in ORG_FIELDS if k in org}
        existing = names.get(str(org.get("name")))
        if existing is not None:
            attempt("organisations", i, service.update_organisation, existing, data)
        else:
            view = attempt("organisations", i, service.create_organisation, data)
            if view is not None:
                names[view.name] = view.id
    site_ids: dict[tuple[Any, ...], int] = {}
    for i, site in enumerate(_items(document, "sites", report)):
        data = {k: site.get(k) for k in SITE_FIELDS if k in site and k != "operator_id"}
        operator = site.get("operator")
        data["operator_id"] = names.get(operator) if isinstance(operator, str) else None
        found = _find_site(session, site)
        if found is not None:
            view = attempt("sites", i, service.update_site, found, data)
        else:
            view = attempt("sites", i, service.create_site, data)
        if view is not None:
            site_ids[("id", site.get("id"))] = view.id
            if view.source_id is not None:
                site_ids[("source", view.source, view.source_id)] = view.id
    for i, ap in enumerate(_items(document, "aps", report)):
        key: dict[str, Any] = ap["site"] if isinstance(ap.get("site"), dict) else {}
        site_id = (site_ids.get(("source", key.get("source"), key.get("source_id"))) if "source_id" in key
                   else site_ids.get(("id", key.get("id"))))
        if site_id is None:
            report.add("site-unknown", "the AP's site is not in the document", row=i, column="aps.site")
            continue
        data = {k: ap.get(k) for k in AP_FIELDS if k in ap and k != "site_id"}
        existing = session.scalar(select(AccessPoint.id).where(AccessPoint.site_id == site_id,
                                                               AccessPoint.name == data.get("name")))
        if existing is not None:
            attempt("aps", i, service.update_ap, existing, data)
        else:
            attempt("aps", i, service.create_ap, {**data, "site_id": site_id})
    return report


def _find_site(session: Session, site: dict[str, Any]) -> int | None:
    if site.get("source_id") is not None:
        return session.scalar(select(Site.id).where(Site.source == site.get("source"),
                                                    Site.source_id == site["source_id"]))
    if isinstance(site.get("id"), int):
        return session.scalar(select(Site.id).where(Site.id == site["id"], Site.source_id.is_(None)))
    return None
