"""Applying imported site records to the store: a diff against what is there, then bulk writes, audited.

Re-importing the same list changes nothing (every row is "unchanged"); a changed row updates its site
in place (matched by ``source`` + ``source_id``), so ids, APs and operators stay. Rows missing from the
new list are reported "removed from source", never deleted: a site leaving an open-data list is news
for an operator, not a reason to drop its APs. ``dry_run`` computes the same diff and writes nothing.
Writes use bulk INSERT/UPDATE (executemany) because a city-wide list has tens of thousands of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tsunagaru.sites import audit
from tsunagaru.sites.importers.bulk import insert_rows
from tsunagaru.sites.importers.report import Report
from tsunagaru.sites.importers.wifi_list import SITE_COLUMNS, SiteRecord
from tsunagaru.sites.scope import Principal
from tsunagaru.sites.scope import write_scope as scope_of
from tsunagaru.sites.tenants import effective_principal
from tsunagaru.store.registry_tables import Municipality, Site

BATCH = 2000
Progress = Callable[[int], None]


@dataclass
class Diff:
    added: list[SiteRecord] = field(default_factory=list)
    changed: list[tuple[int, SiteRecord, dict[str, tuple[Any, Any]]]] = field(default_factory=list)
    unchanged: int = 0
    removed: list[tuple[int, str, str]] = field(default_factory=list)  # (site id, source id, name)

    def to_json(self, detail: int = 1000) -> dict[str, Any]:
        return {
            "added": len(self.added), "changed": len(self.changed), "unchanged": self.unchanged,
            "removed_from_source": len(self.removed),
            "added_ids": [r.source_id for r in self.added[:detail]],
            "changes": [{"site_id": sid, "source_id": r.source_id,
                         "fields": {k: {"old": old, "new": new} for k, (old, new) in f.items()}}
                        for sid, r, f in self.changed[:detail]],
            "removed": [{"site_id": sid, "source_id": src, "name": name} for sid, src, name in self.removed[:detail]],
        }

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.changed)} changed, {self.unchanged} unchanged, "
                f"{len(self.removed)} removed from source (kept)")


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, float) and isinstance(new, float):
        return abs(old - new) < 1e-9
    return bool(old == new)


def diff_sites(session: Session, records: Sequence[SiteRecord]) -> tuple[Diff, dict[tuple[str, str], int]]:
    """What importing ``records`` would do, and the ids of the existing sites by (source, source id)."""
    diff = Diff()
    sources = sorted({r.source for r in records})
    existing: dict[tuple[str, str], tuple[Any, ...]] = {}
    cols = [getattr(Site, c) for c in SITE_COLUMNS]
    for start in range(0, len(sources), 500):
        query = select(Site.id, Site.source, Site.source_id, *cols).where(Site.source.in_(sources[start:start + 500]))
        for row in session.execute(query):
            existing[(row[1], row[2])] = tuple(row)
    ids = {key: row[0] for key, row in existing.items()}
    seen: set[tuple[str, str]] = set()
    for record in records:
        key = (record.source, record.source_id)
        seen.add(key)
        old = existing.get(key)
        if old is None:
            diff.added.append(record)
            continue
        changes = {c: (old[3 + i], getattr(record, c)) for i, c in enumerate(SITE_COLUMNS)
                   if not _same(old[3 + i], getattr(record, c))}
        if changes:
            diff.changed.append((old[0], record, changes))
        else:
            diff.unchanged += 1
    diff.removed = sorted((row[0], key[1], row[3]) for key, row in existing.items() if key not in seen)
    return diff, ids


def in_scope(session: Session, p: Principal, records: Sequence[SiteRecord], report: Report) -> list[SiteRecord]:
    """The records ``p`` may write; the others reported ``out-of-scope``. Unknown codes become unassigned."""
    scope = scope_of(effective_principal(session, p))
    known = set(session.scalars(select(Municipality.code)))
    out = []
    for r in records:
        if r.municipality_code is not None and r.municipality_code not in known:
            report.add("municipality-unknown", f"municipality {r.municipality_code} is not in the registry", row=r.row,
                       column="municipality_code", value=r.municipality_code)
            r = SiteRecord(**{**r.__dict__, "municipality_code": None})
        if not scope.holds(r.municipality_code, None):
            report.add("out-of-scope", "outside your municipality", row=r.row, column="municipality_code",
                       value=r.municipality_code or "")
            continue
        out.append(r)
    return out


def apply_sites(session: Session, p: Principal, records: Sequence[SiteRecord], report: Report, *,
                dry_run: bool = False, now: datetime | None = None, progress: Progress | None = None) -> Diff:
    """Import ``records`` as ``p`` (scope checked per row), audited; nothing is written when ``dry_run``."""
    records = in_scope(session, p, records, report)
    diff, _ = diff_sites(session, records)
    if dry_run:
        return diff
    when = now or datetime.now(UTC)
    # COPY / executemany without RETURNING (see bulk.py), then the new ids in one primary-key range read
    floor = session.scalar(select(func.max(Site.id))) or 0
    added: list[dict[str, Any]] = []
    for start in range(0, len(diff.added), BATCH):
        batch = diff.added[start:start + BATCH]
        values = [{"source": r.source, "source_id": r.source_id, **r.fields(), "state": "active",
                   "created_at": when, "updated_at": when} for r in batch]
        insert_rows(session, Site.metadata.tables[Site.__tablename__], values)
        added += values
        if progress:
            progress(len(batch))
    if added:
        new_ids = {(s, i): sid for sid, s, i in session.execute(
            select(Site.id, Site.source, Site.source_id).where(Site.id > floor))}
        audit.record_many(session, [
            audit.entry(p, "site.import", "site", new_ids[(v["source"], v["source_id"])], None,
                        {k: v[k] for k in ("source", "source_id", *SITE_COLUMNS, "state")}, now=when,
                        municipality_code=v["municipality_code"]) for v in added])
    for start in range(0, len(diff.changed), BATCH):
        changed = diff.changed[start:start + BATCH]
        session.execute(update(Site), [{"id": sid, **{k: new for k, (_, new) in f.items()}, "updated_at": when}
                                       for sid, _, f in changed])
        audit.record_many(session, [
            audit.entry(p, "site.import", "site", sid, {k: old for k, (old, _) in f.items()},
                        {k: new for k, (_, new) in f.items()}, now=when, municipality_code=r.municipality_code)
            for sid, r, f in changed])
        if progress:
            progress(len(changed))
    if progress:
        progress(diff.unchanged)
    session.flush()
    return diff
