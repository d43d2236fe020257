"""The dashboard map with 20,000 APs: the data endpoint's size and time, and Chromium's time to markers.

    .venv/bin/python bench/dashboard_map.py [--sites 20000] [--runs 5]

A real ``tsunagaru web serve`` over a SQLite store seeded like the web tests plus ``--sites`` synthetic
sites with one AP each (tests/web/dashboard/fleetdata.py: every health state present). Figures:
- ``/api/v1/map/sites``: bytes (raw and gzip-compressed, as a proxy would send it) and wall time per
  request, first (fleet health computed) and warm (the 10 s health cache hit);
- Chromium (Debian's, headless, via Playwright): from navigation start (``performance.now()``) to ``map-ready``
  (boundaries and every marker added to the cluster layer), read from ``performance.now()`` in map.js.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.web.dashboard.fleetdata import add_fleet  # noqa: E402
from tests.web.seed import PASSWORD  # noqa: E402
from tests.web.server import web_server  # noqa: E402
from tsunagaru.store import Store  # noqa: E402


def fetch(url: str, token: str) -> tuple[bytes, float]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as resp:
        body = resp.read()
    return body, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, web_server(Path(tmp)) as ws:
        store = Store.open(ws.db_url)
        t0 = time.perf_counter()
        with store.session() as db:
            add_fleet(db, args.sites, datetime.now(UTC))
        store.dispose()
        print(f"seeded {args.sites} sites/APs in {time.perf_counter() - t0:.1f} s")
        import json

        token = json.loads(urllib.request.urlopen(urllib.request.Request(
            ws.url + "/api/v1/auth/token", data=json.dumps({"username": "admin", "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"}), timeout=30).read())["token"]
        body, first = fetch(ws.url + "/api/v1/map/sites", token)
        warm = [fetch(ws.url + "/api/v1/map/sites", token)[1] for _ in range(args.runs)]
        rows = len(json.loads(body)["rows"])
        print(f"map data: {rows} rows, {len(body) / 1e6:.2f} MB raw, {len(gzip.compress(body)) / 1e6:.2f} MB gzip; "
              f"first {first * 1000:.0f} ms (health computed), warm median {statistics.median(warm) * 1000:.0f} ms "
              f"(min {min(warm) * 1000:.0f}, max {max(warm) * 1000:.0f})")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(locale="ja-JP", viewport={"width": 1280, "height": 900})
            page.goto(ws.url + "/login?next=/dashboard")
            page.fill("#username", "admin")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/dashboard")
            times = []
            for _ in range(args.runs):
                page.reload()
                page.wait_for_selector("#map.map-ready", timeout=120_000)
                times.append(int(page.get_attribute("#map", "data-ready-ms") or "0"))
            shown = page.get_attribute("#map", "data-markers")
            browser.close()
        print(f"chromium: {shown} markers; navigation start -> markers shown median {statistics.median(times)} ms "
              f"(runs {times})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
