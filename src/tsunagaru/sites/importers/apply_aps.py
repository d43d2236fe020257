"""Applying AP inventory records: sites resolved, scope checked per row, insert or update by (site, name)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tsunagaru.sites import audit
from tsunagaru.sites.fields import AP_FIELDS
from tsunagaru.sites.importers.ap_inventory import ApRecord
from tsunagaru.sites.importers.apply import BATCH, Progress
from tsunagaru.sites.importers.bulk import insert_rows
from tsunagaru.sites.importers.report import Report
from tsunagaru.sites.scope import Principal, write_scope
from tsunagaru.sites.tenants import effective_principal
from tsunagaru.store.registry_tables import AccessPoint, Site

COMPARED = tuple(f for f in AP_FIELDS if f != "site_id")


@dataclass
class ApDiff:
    added: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[int, dict[str, tuple[Any, Any]], str | None, int | None]] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        return f"{len(self.added)} added, {len(self.changed)} changed, {self.unchanged} unchanged"


def _sites(session: Session, records: Sequence[ApRecord]) -> tuple[dict[int, tuple[Any, ...]],
                                                                    dict[tuple[str, str], int]]:
    by_id: dict[int, tuple[Any, ...]] = {}
    by_key: dict[tuple[str, str], int] = {}
    ids = sorted({r.site_id for r in records if r.site_id is not None})
    sources = sorted({r.site_key[0] for r in records if r.site_key is not None})
    cols = (Site.id, Site.source, Site.source_id, Site.municipality_code, Site.operator_id)
    for start in range(0, len(ids), 500):
        for row in session.execute(select(*cols).where(Site.id.in_(ids[start:start + 500]))):
            by_id[row[0]] = tuple(row)
    for start in range(0, len(sources), 100):
        for row in session.execute(select(*cols).where(Site.source.in_(sources[start:start + 100]))):
            by_id[row[0]] = tuple(row)
            by_key[(row[1] or "", row[2] or "")] = row[0]
    return by_id, by_key


def apply_aps(session: Session, p: Principal, records: Sequence[ApRecord], report: Report, *,
              dry_run: bool = False, now: datetime | None = None, progress: Progress | None = None) -> ApDiff:
    scope = write_scope(effective_principal(session, p))
    sites, keys = _sites(session, records)
    existing: dict[tuple[int, str], tuple[Any, ...]] = {}
    site_ids = sorted(sites)
    columns = (AccessPoint.id, AccessPoint.site_id, *[getattr(AccessPoint, c) for c in COMPARED])
    # many sites: one pass over the table beats many IN lists (which a planner without statistics scans)
    everything = len(site_ids) > 2000
    site_chunks: list[list[int]] = [[]] if everything else [site_ids[i:i + 500] for i in range(0, len(site_ids), 500)]
    for site_chunk in site_chunks:
        query = select(*columns) if everything else select(*columns).where(AccessPoint.site_id.in_(site_chunk))
        for row in session.execute(query):
            if row[1] in sites:
                existing[(row[1], row[2])] = tuple(row)
    networks: dict[str, int] = {net: ap_id for net, ap_id in session.execute(
        select(AccessPoint.nas_network, AccessPoint.id).where(AccessPoint.nas_network.is_not(None))) if net}
    diff = ApDiff()
    for r in records:
        site_id = r.site_id if r.site_id is not None else keys.get(r.site_key or ("", ""))
        site = sites.get(site_id) if site_id is not None else None
        if site is None or not scope.holds(site[3], site[4]):
            report.add("site-unknown", "no such site in your scope", row=r.row, column="site_id",
                       value=str(r.site_id if r.site_id is not None else r.site_key))
            continue
        old = existing.get((site[0], r.fields["name"]))
        network, mine = r.fields.get("nas_network"), (old[0] if old else -r.row)  # -row: new in this file
        if network is not None:
            owner = networks.setdefault(network, mine)
            if owner != mine:
                other = f"AP {owner}" if owner > 0 else f"row {-owner}"
                report.add("duplicate-id", f"nas_network {network} belongs to {other}", row=r.row,
                           column="nas_network", value=network)
                continue
        if old is None:
            diff.added.append({"site_id": site[0], **r.fields, "_municipality": site[3], "_operator": site[4]})
            continue
        changes = {c: (old[2 + i], r.fields[c]) for i, c in enumerate(COMPARED) if old[2 + i] != r.fields[c]}
        if changes:
            diff.changed.append((old[0], changes, site[3], site[4]))
        else:
            diff.unchanged += 1
    report.accepted = len(diff.added) + len(diff.changed) + diff.unchanged
    if dry_run:
        return diff
    when = now or datetime.now(UTC)
    floor = session.scalar(select(func.max(AccessPoint.id))) or 0  # new ids are read back above it (apply.py)
    for start in range(0, len(diff.added), BATCH):
        batch = diff.added[start:start + BATCH]
        values = [{k: v for k, v in a.items() if not k.startswith("_")} | {"created_at": when, "updated_at": when}
                  for a in batch]
        insert_rows(session, AccessPoint.metadata.tables[AccessPoint.__tablename__], values)
        if progress:
            progress(len(batch))
    if diff.added:
        by_key = {(s, n): i for i, s, n in session.execute(
            select(AccessPoint.id, AccessPoint.site_id, AccessPoint.name).where(AccessPoint.id > floor))}
        audit.record_many(session, [
            audit.entry(p, "ap.import", "ap", by_key[(a["site_id"], a["name"])], None,
                        {k: v for k, v in a.items() if not k.startswith("_")}, now=when,
                        municipality_code=a["_municipality"], organisation_id=a["_operator"]) for a in diff.added])
    for start in range(0, len(diff.changed), BATCH):
        chunk = diff.changed[start:start + BATCH]
        session.execute(update(AccessPoint), [{"id": i, **{k: new for k, (_, new) in c.items()}, "updated_at": when}
                                              for i, c, _, _ in chunk])
        audit.record_many(session, [
            audit.entry(p, "ap.import", "ap", i, {k: old for k, (old, _) in c.items()},
                        {k: new for k, (_, new) in c.items()}, now=when, municipality_code=m, organisation_id=o)
            for i, c, m, o in chunk])
        if progress:
            progress(len(chunk))
    session.flush()
    return diff
