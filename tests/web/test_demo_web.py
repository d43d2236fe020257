"""The demo contract's web part: ``tsunagaru demo`` serves the web app with the demo accounts and AP
tokens (0600), the Tokyo sample list imported, scoped reads, and pullable AP configs; still ``ready``."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.demo import demo_argv, demo_ports
from tests.support.procs import stop, wait_log


def _call(url: str, token: str | None = None, body: dict[str, Any] | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                 method="POST" if body is not None else "GET")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def test_demo_serves_the_web_contract(tmp_path: Path) -> None:
    ports = demo_ports()  # the metrics' too: the defaults (9812, 9813) may be another demo's
    web = ports["web"]
    state, out = tmp_path / "state", tmp_path / "demo.out"
    argv = demo_argv(state, ports)
    with open(out, "wb") as f:
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_log(out, "\nready", timeout=90, proc=proc)
        ready_after = time.monotonic() - started
        base = f"http://127.0.0.1:{web}"
        for name in ("web-users.txt", "ap-tokens.txt"):
            assert stat.S_IMODE((state / name).stat().st_mode) == 0o600, name
        accounts = {line.split()[0]: line.split() for line in (state / "web-users.txt").read_text().splitlines()}
        assert set(accounts) >= {"city-admin", "municipality-operator", "site-operator", "viewer", "auditor"}
        assert accounts["municipality-operator"][3] == "131041"
        tokens = {}
        for role, words in accounts.items():
            status, _, body = _call(base + "/api/v1/auth/token", body={"username": words[1], "password": words[2]})
            assert status == 200, (role, body)
            tokens[role] = json.loads(body)["token"]
        status, _, body = _call(base + "/api/v1/sites?municipality=131041&limit=5&offset=0", tokens["viewer"])
        page = json.loads(body)
        assert status == 200 and page["total"] > 0 and len(page["items"]) <= 5
        assert set(page["items"][0]) >= {"id", "name", "name_en", "municipality_code", "lat", "lon", "category",
                                         "state"}
        status, _, body = _call(base + "/api/v1/sites?municipality=131016", tokens["municipality-operator"])
        assert status == 200 and json.loads(body)["total"] == 0  # Chiyoda is out of Shinjuku's scope
        assert _call(base + "/api/v1/audit?limit=3", tokens["auditor"])[0] == 200
        assert _call(base + "/api/v1/audit?limit=3", tokens["viewer"])[0] == 404
        lines = (state / "ap-tokens.txt").read_text().split("\n")
        ap_id, ap_token = lines[0].split()
        status, headers, body = _call(f"{base}/api/v1/aps/{ap_id}/config?format=hostapd", ap_token)
        assert status == 200 and b"hs20=1" in body and b"auth_server_shared_secret=testing123" in body
        etag = {k.lower(): v for k, v in headers.items()}["etag"]
        assert _call(f"{base}/api/v1/aps/{ap_id}/config?format=hostapd", ap_token,
                     headers={"If-None-Match": etag})[0] == 304
        status, _, body = _call(f"{base}/api/v1/aps/{ap_id}/status", ap_token,
                                body={"version": etag, "result": "applied", "log": "ok"})
        assert status == 200 and json.loads(body)["config_state"] == "current"
        status, _, body = _call(f"{base}/api/v1/aps/{ap_id}", tokens["city-admin"])
        view = json.loads(body)
        assert set(view) >= {"id", "site_id", "municipality_code", "config_state"}
        status, _, body = _call(f"{base}/", headers={"Accept-Language": "ja"})
        assert status == 200 and "つながる".encode() in body
        assert _call(f"{base}/api/v1/openapi.json")[0] == 200
        os.kill(proc.pid, signal.SIGTERM)
        stopping = time.monotonic()
        assert proc.wait(60) == 0  # a bound, as in tests/test_demo.py (the whole stack drains on a loaded box)
        stopped_after = time.monotonic() - stopping
    finally:
        stop(proc)
    print(f"demo ready after {ready_after:.1f} s, stopped {stopped_after:.1f} s after SIGTERM")
    # a second start reuses the accounts and tokens
    before = (state / "web-users.txt").read_text()
    with open(out, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_log(out, "\nready", timeout=90, proc=proc)
        assert (state / "web-users.txt").read_text() == before
    finally:
        stop(proc)
