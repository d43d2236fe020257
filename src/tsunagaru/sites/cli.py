"""``tsunagaru sites ...`` and ``tsunagaru aps ...``: the registry from a shell, as a local city admin.

Every command runs as ``cli:<unix user>`` (see :func:`tsunagaru.sites.scope.system_principal`) through
the same services as the web app, so it is scope-checked and audited like any other change. Imports
show a progress bar on a terminal and nothing otherwise; ``--dry-run`` prints the diff and writes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tsunagaru.sites import service
from tsunagaru.sites.errors import RegistryError
from tsunagaru.sites.scope import system_principal
from tsunagaru.store.engine import default_url

FORMATS = ("auto", "wifi-list", "ap-inventory")
MAX_FILE = 64 * 1024 * 1024


def _db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="database URL (default $TSUNAGARU_DB or sqlite:///./tsunagaru-idp.sqlite)")


def register(subparsers: Any) -> None:
    sites = subparsers.add_parser("sites", help="the site registry: import lists, list and show sites")
    sub = sites.add_subparsers(dest="sites_command", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="import a public Wi-Fi list (national standard) or an AP inventory CSV")
    imp.add_argument("file", type=Path)
    imp.add_argument("--format", choices=FORMATS, default="auto")
    imp.add_argument("--source", help="source key of the rows (default: the list's own code column)")
    imp.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
    imp.add_argument("--report", type=Path, help="write the validation report (JSON) here")
    imp.add_argument("--diff", type=Path, help="write the diff (JSON) here")
    _db(imp)
    imp.set_defaults(func=_import)
    ls = sub.add_parser("list", help="list sites")
    ls.add_argument("--municipality")
    ls.add_argument("--category")
    ls.add_argument("--operator", type=int)
    ls.add_argument("--q", help="part of the name")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--offset", type=int, default=0)
    ls.add_argument("--json", action="store_true")
    _db(ls)
    ls.set_defaults(func=_list_sites)
    show = sub.add_parser("show", help="show one site and its APs")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    _db(show)
    show.set_defaults(func=_show_site)
    exp = sub.add_parser("export", help="the whole registry as JSON")
    exp.add_argument("--out", type=Path, help="file (default: stdout)")
    _db(exp)
    exp.set_defaults(func=_export)
    ij = sub.add_parser("import-json", help="load a registry JSON export (upsert)")
    ij.add_argument("file", type=Path)
    ij.add_argument("--report", type=Path)
    _db(ij)
    ij.set_defaults(func=_import_json)

    ax = sub.add_parser("anp-export", help="write the ANP's clients file from the registry's APs (and reload it)")
    ax.add_argument("--out", type=Path, required=True, help="the clients file the ANP includes (anp.clients_files)")
    ax.add_argument("--secrets", type=Path, required=True, help="folder of the secrets that file:NAME refers to")
    ax.add_argument("--reload-pid", type=int, help="send SIGHUP to this ANP process when the file changed")
    ax.add_argument("--reload-pidfile", type=Path, help="... or to the pid in this file")
    ax.add_argument("--watch", type=float, metavar="SECONDS", help="export again every SECONDS until stopped")
    _db(ax)
    ax.set_defaults(func=_anp_export)

    aps = subparsers.add_parser("aps", help="access points in the registry")
    asub = aps.add_subparsers(dest="aps_command", metavar="ACTION", required=True)
    add = asub.add_parser("add", help="add an access point to a site")
    add.add_argument("--site", type=int, required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--platform", default="hostapd", choices=("hostapd", "openwrt", "other"))
    add.add_argument("--nas-network", help="RADIUS source address or CIDR")
    add.add_argument("--nas-identifier")
    add.add_argument("--secret-ref", help="file:NAME of the RADIUS secret")
    add.add_argument("--radsec-name", help="DNS name of its client certificate (RadSec APs)")
    add.add_argument("--bssid", action="append", default=[])
    add.add_argument("--radio", action="append", default=[], help="band:channel, e.g. 5g:36")
    _db(add)
    add.set_defaults(func=_add_ap)
    als = asub.add_parser("list", help="list access points")
    als.add_argument("--site", type=int)
    als.add_argument("--municipality")
    als.add_argument("--limit", type=int, default=50)
    als.add_argument("--offset", type=int, default=0)
    als.add_argument("--json", action="store_true")
    _db(als)
    als.set_defaults(func=_list_aps)
    ash = asub.add_parser("show", help="show one access point")
    ash.add_argument("id", type=int)
    _db(ash)
    ash.set_defaults(func=_show_ap)


@contextmanager
def _session(args: argparse.Namespace) -> Iterator[Any]:
    from tsunagaru.store import Store

    store = Store.open(args.db or default_url())
    try:
        with store.session() as session:
            yield session
    finally:
        store.dispose()


def _run(args: argparse.Namespace, body: Callable[[Any], int]) -> int:
    try:
        with _session(args) as session:
            return body(session)
    except RegistryError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"error: {exc.message}{where}", file=sys.stderr)
        return 1


def _read(path: Path) -> bytes | None:
    try:
        if path.stat().st_size > MAX_FILE:
            print(f"error: {path} is larger than {MAX_FILE} bytes", file=sys.stderr)
            return None
        return path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A rich progress bar on a terminal; nothing (None) when stderr is not one."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _detect(data: bytes) -> str:
    head = data[:4096].decode("utf-8", errors="ignore").splitlines()[:1]
    cells = {c.strip().strip('"').lstrip("\ufeff").lower() for c in (head[0].split(",") if head else [])}
    return "ap-inventory" if "name" in cells and ({"site_id", "site_source_id"} & cells) else "wifi-list"


def _import(args: argparse.Namespace) -> int:
    data = _read(args.file)
    if data is None:
        return 1
    fmt = _detect(data) if args.format == "auto" else args.format
    p = system_principal()

    def body(session: Any) -> int:
        from tsunagaru.sites.importers import ap_inventory, apply, apply_aps, wifi_list
        from tsunagaru.sites.municipalities import Gazetteer, shipped
        from tsunagaru.sites.seed import seed_municipalities
        from tsunagaru.store.registry_tables import Municipality

        if not session.scalar(select(func.count()).select_from(Municipality)):
            seed_municipalities(session, p)
        diff: Any
        if fmt == "ap-inventory":
            aps, report = ap_inventory.parse(data, name=str(args.file))
            with progress_bar(len(aps), "importing APs") as bar:
                diff = apply_aps.apply_aps(session, p, aps, report, dry_run=args.dry_run, progress=bar)
        else:
            records, report = wifi_list.parse(data, Gazetteer(shipped()), source=args.source, name=str(args.file))
            with progress_bar(len(records), "importing sites") as bar:
                diff = apply.apply_sites(session, p, records, report, dry_run=args.dry_run, progress=bar)
        print(report.summary(), file=sys.stderr)
        if args.report:
            args.report.write_text(report.dumps() + "\n", encoding="utf-8")
        if args.diff and fmt != "ap-inventory":
            args.diff.write_text(json.dumps(diff.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        if args.dry_run:
            _print_diff(diff)
            session.rollback()
            print(f"dry run: {diff.summary()}; nothing written")
        else:
            print(f"imported: {diff.summary()}")
        return 0

    return _run(args, body)


def _print_diff(diff: Any, shown: int = 20) -> None:
    if not hasattr(diff, "removed"):
        return
    for record in diff.added[:shown]:
        print(f"+ {record.source}/{record.source_id} {record.name}")
    for site_id, record, fields in diff.changed[:shown]:
        print(f"~ site {site_id} {record.source}/{record.source_id}: " +
              ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in fields.items()))
    for site_id, source_id, name in diff.removed[:shown]:
        print(f"- site {site_id} ({source_id} {name}) is no longer in the source (kept)")


def _site_line(s: service.SiteView) -> str:
    where = f"{s.lat:.6f},{s.lon:.6f}" if s.lat is not None and s.lon is not None else "-"
    return f"{s.id:7d}  {s.municipality_code or '------'}  {s.category:12s}  {s.state:8s}  {where:22s}  {s.name}"


def _list_sites(args: argparse.Namespace) -> int:
    def body(session: Any) -> int:
        page = service.list_sites(session, system_principal(), municipality=args.municipality, category=args.category,
                                  operator_id=args.operator, q=args.q, limit=args.limit, offset=args.offset)
        if args.json:
            print(json.dumps({"items": [s.to_json() for s in page.items], "total": page.total}, ensure_ascii=False))
        else:
            for s in page.items:
                print(_site_line(s))
            print(f"{len(page.items)} of {page.total} (offset {page.offset})", file=sys.stderr)
        return 0

    return _run(args, body)


def _show_site(args: argparse.Namespace) -> int:
    def body(session: Any) -> int:
        p = system_principal()
        site = service.get_site(session, p, args.id)
        aps = service.list_aps(session, p, site_id=site.id, limit=1000)
        if args.json:
            print(json.dumps({**site.to_json(), "aps": [a.to_json() for a in aps.items]}, ensure_ascii=False))
            return 0
        for key, value in site.to_json().items():
            if value is not None:
                print(f"{key:18s} {value}")
        for ap in aps.items:
            print(f"ap {ap.id}: {ap.name} ({ap.platform}, {ap.state}, config {ap.config_state})")
        return 0

    return _run(args, body)


def _export(args: argparse.Namespace) -> int:
    from tsunagaru.sites import registry_json

    def body(session: Any) -> int:
        text = registry_json.dumps(registry_json.export(session, system_principal())) + "\n"
        if args.out:
            args.out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
        return 0

    return _run(args, body)


def _import_json(args: argparse.Namespace) -> int:
    from tsunagaru.sites import registry_json

    data = _read(args.file)
    if data is None:
        return 1
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        print(f"error: {args.file} is not JSON: {exc}", file=sys.stderr)
        return 1

    def body(session: Any) -> int:
        count = sum(len(document.get(k, []) or []) for k in ("organisations", "sites", "aps")
                    ) if isinstance(document, dict) else 0
        with progress_bar(count, "loading registry") as bar:
            report = registry_json.load(session, system_principal(), document, progress=bar)
        print(report.summary(), file=sys.stderr)
        if args.report:
            args.report.write_text(report.dumps() + "\n", encoding="utf-8")
        return 0 if not report.errors else 3

    return _run(args, body)


def _pid(args: argparse.Namespace) -> int | None:
    if args.reload_pid is not None:
        return int(args.reload_pid)
    if args.reload_pidfile is not None:
        try:
            return int(args.reload_pidfile.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            print(f"warning: no pid in {args.reload_pidfile}", file=sys.stderr)
    return None


def _anp_export(args: argparse.Namespace) -> int:
    import signal
    import threading

    from tsunagaru.sites.anp_export import export
    from tsunagaru.store import Store

    if args.watch is not None and not 1 <= args.watch <= 3600:
        print("error: --watch must be 1 to 3600 seconds", file=sys.stderr)
        return 2
    stop = threading.Event()
    if args.watch is not None:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    store = Store.open(args.db or default_url())
    try:
        while True:
            try:
                with store.session() as session:
                    result = export(session, args.secrets, args.out, reload_pid=_pid(args))
                if result.written or args.watch is None:
                    print(f"{args.out}: {result.clients} clients" + (" (written" + (", ANP reloaded)" if
                          result.reloaded else ")") if result.written else " (unchanged)"), flush=True)
            except Exception as exc:  # a watcher keeps going; one clear line per failed round
                print(f"error: export failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
                if args.watch is None:
                    return 1
            if args.watch is None or stop.wait(args.watch):
                return 0
    finally:
        store.dispose()


def _radios(specs: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for spec in specs:
        band, _, channel = spec.partition(":")
        out.append({"band": band, "channel": int(channel) if channel.isdigit() else None})
    return out


def _add_ap(args: argparse.Namespace) -> int:
    def body(session: Any) -> int:
        data = {"site_id": args.site, "name": args.name, "platform": args.platform, "nas_network": args.nas_network,
                "nas_identifier": args.nas_identifier, "secret_ref": args.secret_ref, "radsec_name": args.radsec_name,
                "bssids": args.bssid, "radios": _radios(args.radio)}
        ap = service.create_ap(session, system_principal(), data)
        print(f"access point {ap.id} added to site {ap.site_id}")
        return 0

    return _run(args, body)


def _list_aps(args: argparse.Namespace) -> int:
    def body(session: Any) -> int:
        page = service.list_aps(session, system_principal(), site_id=args.site, municipality=args.municipality,
                                limit=args.limit, offset=args.offset)
        if args.json:
            print(json.dumps({"items": [a.to_json() for a in page.items], "total": page.total}, ensure_ascii=False))
            return 0
        for a in page.items:
            nas = a.nas_network or f"radsec:{a.radsec_name}"
            print(f"{a.id:7d}  site {a.site_id:<7d} {a.municipality_code or '------'}  {a.state:8s}  "
                  f"{a.config_state:8s}  {nas:20s}  {a.name}")
        print(f"{len(page.items)} of {page.total} (offset {page.offset})", file=sys.stderr)
        return 0

    return _run(args, body)


def _show_ap(args: argparse.Namespace) -> int:
    def body(session: Any) -> int:
        print(json.dumps(service.get_ap(session, system_principal(), args.id).to_json(), ensure_ascii=False,
                         indent=1))
        return 0

    return _run(args, body)
