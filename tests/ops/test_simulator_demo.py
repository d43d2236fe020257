"""`tsunagaru demo` with its traffic simulator: within a minute the dashboard's map shows sites that are up
(their virtual APs' logins and accounting went through the real ANP and IdP), the usage aggregates have
sessions and the IdP list shows the demo realm up; with ``--no-sim`` nothing is simulated."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.demo import demo_argv, demo_ports
from tests.support.procs import stop, wait_log
from tsunagaru.ops.simulator import SimConfig


def _demo(tmp: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Path, int]:
    ports = demo_ports()
    web = ports["web"]
    state, out = tmp / "state", tmp / "demo.out"
    argv = demo_argv(state, ports, *extra)
    with open(out, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
    wait_log(out, "\nready", timeout=90, proc=proc)
    return proc, state, web


def _get(url: str, token: str | None = None, body: object | None = None) -> dict[str, object]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, headers=headers)
    with urllib.request.urlopen(req, timeout=20) as resp:
        return dict(json.loads(resp.read()))


def _admin(state: Path, web: int) -> str:
    for line in (state / "web-users.txt").read_text().splitlines():
        role, user, password = line.split()[:3]
        if role == "city-admin":
            return str(_get(f"http://127.0.0.1:{web}/api/v1/auth/token", body={"username": user,
                                                                             "password": password})["token"])
    raise AssertionError("no city-admin in web-users.txt")


@pytest.mark.interop
def test_demo_traffic_shows_on_the_map_within_a_minute(tmp_path: Path) -> None:
    proc, state, web = _demo(tmp_path)
    try:
        token = _admin(state, web)
        t0 = time.monotonic()
        states: dict[str, object] = {}
        while time.monotonic() - t0 < 90:
            states = dict(_get(f"http://127.0.0.1:{web}/api/v1/map/sites", token)["states"])  # type: ignore[arg-type]
            if int(states.get("ok", 0)) >= 100:  # type: ignore[call-overload]
                break
            time.sleep(3)
        shown = time.monotonic() - t0
        assert int(states.get("ok", 0)) >= 100, states  # type: ignore[call-overload]
        print(f"sites up on the map {shown:.1f} s after ready: {states}")
        # the IdP list: the ANP publishes its RadSec peer of the demo realm (found by discovery) with its
        # activity (demo interval 30 s), so the realm is up on the page within a minute of ready
        realm: dict[str, object] = {}
        while time.monotonic() - t0 < 90 and realm.get("state") != "up":
            items = _get(f"http://127.0.0.1:{web}/api/v1/idps", token)["items"]
            realm = next((i for i in items if i["realm"] == "idp.tsunagaru.test"), {})  # type: ignore[union-attr]
            time.sleep(2)
        assert realm.get("state") == "up", realm
        peers = realm["peers"]
        assert [(p["found"], p["state"]) for p in peers] == [("srv", "up")]  # type: ignore[union-attr]
        print(f"IdP realm up on /dashboard/idps {time.monotonic() - t0:.1f} s after ready")
        req = urllib.request.Request(f"http://127.0.0.1:{web}/dashboard/idps",
                                     headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})
        with urllib.request.urlopen(req, timeout=20) as resp:
            page = resp.read().decode()
        assert 'data-realm="idp.tsunagaru.test"' in page and "health-up" in page
        # the activity is the ANP's own (the simulator records nothing itself) and the web app's jobs turn
        # it into usage aggregates and alert history
        db = sqlite3.connect(state / "idp.sqlite")
        try:
            sims = {f"ap-{i}" for (i,) in db.execute("SELECT id FROM reg_aps WHERE name LIKE 'sim-%'")}
            keys = {k for (k,) in db.execute("SELECT DISTINCT ap_key FROM ops_activity")}
            assert len(keys & sims) >= 100, sorted(keys)[:10]  # the ANP's keys: the exported clients' names
            deadline = time.monotonic() + 60
            usage = 0
            while time.monotonic() < deadline and not usage:
                usage = db.execute("SELECT count(*) FROM ops_usage_hourly WHERE sessions > 0").fetchone()[0]
                time.sleep(2)
            assert usage, "no usage aggregates: the usage job did not run"
            assert db.execute("SELECT count(*) FROM ops_alerts").fetchone()[0] >= 0
        finally:
            db.close()
        print(f"usage aggregates {time.monotonic() - t0:.1f} s after ready")
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        stop(proc)


def test_the_simulator_is_bounded_and_loopback_only() -> None:
    with pytest.raises(ValueError):
        SimConfig(host="192.0.2.1")
    with pytest.raises(ValueError):
        SimConfig(aps=100_000)
    with pytest.raises(ValueError):
        SimConfig(seconds=10**9)
