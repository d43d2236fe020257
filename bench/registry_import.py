"""Import 30,000 synthetic sites with 60,000 APs into SQLite and PostgreSQL (goal: < 30 s each).

    .venv/bin/python bench/registry_import.py [--sites 30000] [--aps-per-site 2] [--backend sqlite|postgresql|both]

The sites are a national-standard Wi-Fi list (cp932, CRLF, the Tokyo header) spread over Tokyo's 62
municipalities with addresses the gazetteer resolves; the APs are an AP inventory CSV naming the sites
by source id, each with a unique source network, two BSSIDs and two radios. Each phase (parse, apply,
commit) is timed by wall clock and by process CPU; the import is the `tsunagaru sites import` path
(parse -> diff -> bulk insert with audit rows) run as a city admin. A second, unchanged import of the
site list is timed too (the idempotent path: a diff and no writes), and so is one reload of the ANP's
clients from the store (``anp.clients_db``: every AP read, secrets resolved, RFC 5580 location encoded).
PostgreSQL is a private server started for the run (tests/support/pgserver.py) and stopped at the end.
Results go to stdout and to bench/results/registry-import-<time>.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from tsunagaru.anp.registry_clients import load_clients  # noqa: E402
from tsunagaru.sites.importers import ap_inventory, apply, apply_aps, wifi_list  # noqa: E402
from tsunagaru.sites.municipalities import Gazetteer, shipped  # noqa: E402
from tsunagaru.sites.scope import Principal, Role  # noqa: E402
from tsunagaru.sites.seed import seed_municipalities  # noqa: E402
from tsunagaru.store import Store  # noqa: E402

HEADER = ("都道府県コード又は市区町村コード,NO,都道府県名,市区町村名,名称,名称_カナ,名称_英語,住所,方書,緯度,経度,"
          "設置者,電話番号,内線番号,SSID,提供エリア,URL,備考,最終確認日")
ADMIN = Principal("bench", Role.CITY_ADMIN)


def site_list(n: int) -> bytes:
    refs = shipped()
    out = io.StringIO()
    out.write(HEADER + "\r\n")
    for i in range(1, n + 1):
        ref = refs[i % len(refs)]
        lat = 35.5 + (i % 1000) * 0.0004
        lon = 139.2 + (i // 1000) * 0.02 + (i % 7) * 0.0001
        out.write(f"130001,{i},東京都,,公衆電話（{ref.name_ja}{i}）,,,東京都{ref.name_ja}本町{i % 50}-{i % 13},,"
                  f"{lat:.6f},{lon:.6f},東京都,,,FREE_Wi-Fi_and_TOKYO,,http://www.wifi-tokyo.jp/ja/,,2024/9/1\r\n")
    return out.getvalue().encode("cp932")


def ap_list(n_sites: int, per_site: int) -> bytes:
    out = io.StringIO()
    out.write("site_source,site_source_id,name,platform,bssids,radios,nas_network,secret_ref\r\n")
    k = 0
    for i in range(1, n_sites + 1):
        for j in range(per_site):
            k += 1
            mac = f"02:{k >> 24 & 255:02x}:{k >> 16 & 255:02x}:{k >> 8 & 255:02x}:{k & 255:02x}"
            out.write(f"130001,{i},ap-{j},hostapd,{mac}:01;{mac}:02,2g:6;5g:36,10.{k >> 16 & 255}.{k >> 8 & 255}."
                      f"{k & 255},file:nas-secret\r\n")
    return out.getvalue().encode()


def tree_cpu(root_pid: int) -> float:
    """utime+stime (seconds) of ``root_pid`` and its children (the PostgreSQL postmaster and its backends)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == root_pid or int(fields[1]) == root_pid:  # fields[1] is the parent pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


class Timer:
    def __init__(self, server_cpu: Callable[[], float] | None = None) -> None:
        self.phases: dict[str, dict[str, float]] = {}
        self.server_cpu = server_cpu

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        server = self.server_cpu() if self.server_cpu else 0.0
        yield
        self.phases[name] = {"wall_s": round(time.perf_counter() - wall, 3),
                             "cpu_s": round(time.process_time() - cpu, 3)}
        if self.server_cpu:
            self.phases[name]["server_cpu_s"] = round(self.server_cpu() - server, 3)


def run(url: str, sites: bytes, aps: bytes, n_sites: int, n_aps: int,
        server_cpu: Callable[[], float] | None = None) -> dict[str, Any]:
    t = Timer(server_cpu)
    store = Store.open(url)
    gaz = Gazetteer(shipped())
    now = datetime.now(UTC)
    try:
        with store.session() as s:
            seed_municipalities(s, ADMIN, now=now)
        total_wall, total_cpu = time.perf_counter(), time.process_time()
        total_server = server_cpu() if server_cpu else 0.0
        with t.phase("parse_sites"):
            records, report = wifi_list.parse(sites, gaz)
        with t.phase("apply_sites+commit"), store.session() as s:
            diff = apply.apply_sites(s, ADMIN, records, report, now=now)
        with t.phase("parse_aps"):
            ap_records, ap_report = ap_inventory.parse(aps)
        with t.phase("apply_aps+commit"), store.session() as s:
            ap_diff = apply_aps.apply_aps(s, ADMIN, ap_records, ap_report, now=now)
        total = {"wall_s": round(time.perf_counter() - total_wall, 3),
                 "cpu_s": round(time.process_time() - total_cpu, 3)}
        if server_cpu:
            total["server_cpu_s"] = round(server_cpu() - total_server, 3)
        with t.phase("reimport_sites_unchanged"), store.session() as s:
            records, report = wifi_list.parse(sites, gaz)
            again = apply.apply_sites(s, ADMIN, records, report, now=now)
        with tempfile.TemporaryDirectory() as secrets, t.phase("anp_registry_clients_load"):
            (Path(secrets) / "nas-secret").write_text("bench-secret\n")  # what one ANP reload reads
            clients, skipped = load_clients(store, Path(secrets), now)
        assert len(clients) == n_aps and not skipped, (len(clients), skipped[:3])
        assert len(diff.added) == n_sites and len(ap_diff.added) == n_aps, (diff.summary(), ap_diff.summary())
        assert again.unchanged == n_sites and not again.added and not again.changed
        return {"phases": t.phases, "import_total": total,
                "cpu_us_per_row": round(total["cpu_s"] * 1e6 / (n_sites + n_aps), 1),
                "sites": diff.summary(), "aps": ap_diff.summary(), "warnings": report.warnings}
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sites", type=int, default=30_000)
    ap.add_argument("--aps-per-site", type=int, default=2)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args(argv)
    if not 1 <= args.sites <= 200_000 or not 0 <= args.aps_per_site <= 8:
        ap.error("--sites 1..200000, --aps-per-site 0..8 (bounded)")
    sites, aps = site_list(args.sites), ap_list(args.sites, args.aps_per_site)
    n_aps = args.sites * args.aps_per_site
    results: dict[str, Any] = {"sites": args.sites, "aps": n_aps, "site_list_bytes": len(sites),
                               "ap_list_bytes": len(aps), "at": datetime.now(UTC).isoformat()}
    backends: list[tuple[str, Callable[[], Any]]] = []
    if args.backend in ("sqlite", "both"):
        backends.append(("sqlite", _sqlite))
    if args.backend in ("postgresql", "both"):
        backends.append(("postgresql", _postgres))
    results["load_average_before"] = os.getloadavg()
    for name, opener in backends:
        with opener() as (url, server_cpu):
            results[name] = run(url, sites, aps, args.sites, n_aps, server_cpu)
            print(name, json.dumps(results[name], ensure_ascii=False, indent=1), flush=True)
    out = ROOT / "bench" / "results" / f"registry-import-{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
    print(f"written {out}")
    return 0


@contextmanager
def _sqlite() -> Iterator[tuple[str, None]]:
    with tempfile.TemporaryDirectory(prefix="tsunagaru-bench-") as d:
        yield f"sqlite:///{d}/registry.sqlite", None


@contextmanager
def _postgres() -> Iterator[tuple[str, Callable[[], float]]]:
    import pytest

    from tests.support.pgserver import postgres_server

    try:
        with postgres_server() as server, server.database() as url:
            postmaster = int((server.root / "data" / "postmaster.pid").read_text().split()[0])
            yield url, lambda: tree_cpu(postmaster)
    except pytest.skip.Exception as exc:
        raise SystemExit(f"PostgreSQL not available: {exc}") from None


if __name__ == "__main__":
    raise SystemExit(main())
