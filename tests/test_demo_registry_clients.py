"""The demo ANP takes its clients from the demo's registry (``anp.clients_db``), measured through the demo
contract: a demo AP (127.0.1.N, its NAS-Identifier, the demo secret) is served and an address the registry
does not list is not; the demo disaster credential is accepted from a demo AP inside an incident declared
through the API, refused outside its area and after its end; an AP deleted through the API is refused.
127.0.0.1 with ``testing123`` stays the contract's static NAS (tests/test_demo.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.demo import demo_argv, demo_ports
from tests.support.procs import need, stop, wait_log
from tsunagaru.demo_state import DISASTER_REALM, NAS_SECRET, REALM
from tsunagaru.idp import users
from tsunagaru.store import Store

pytestmark = pytest.mark.interop
GUEST, GUEST_PASSWORD = "shelter", "shelter-guest-password"
DEADLINE = 60.0


def _api(web: int, path: str, token: str | None = None, body: object | None = None, method: str = "GET") -> object:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{web}{path}", data=data, headers=headers,
                                 method=method if body is None else "POST")
    with urllib.request.urlopen(req, timeout=20) as resp:
        raw = resp.read()
    return json.loads(raw) if raw else None


def _login(folder: Path, conf: Path, auth: int, source: str, nas: str) -> bool:
    done = subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(auth), "-s", NAS_SECRET,
                           "-A", source, "-t", "3", "-N", f"32:s:{nas}"], capture_output=True, text=True, timeout=30,
                          cwd=folder)
    return done.returncode == 0 and "SUCCESS" in done.stdout


def _until(check: object, what: str) -> float:
    started = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - started < DEADLINE, f"{what}: not within {DEADLINE:.0f} s"
    return time.monotonic() - started


def test_demo_anp_clients_come_from_the_registry(tmp_path: Path) -> None:
    need("eapol_test")
    ports = demo_ports()
    auth, web = ports["auth"], ports["web"]
    state, out = tmp_path / "state", tmp_path / "demo.out"
    argv = demo_argv(state, ports, "--no-sim")
    with open(out, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
    figures: dict[str, float] = {}
    try:
        wait_log(out, "\nready", timeout=90, proc=proc)
        conf, guest = state / "eapol-ttls.conf", tmp_path / "guest.conf"
        guest.write_text(conf.read_text().replace(f"alice@{REALM}", f"{GUEST}@{DISASTER_REALM}")
                         .replace(f"anonymous@{REALM}", f"anonymous@{DISASTER_REALM}")
                         .replace("alice-password", GUEST_PASSWORD))
        assert _login(tmp_path, conf, auth, "127.0.1.1", "demo-ap-1"), "a demo AP of the registry was not served"
        assert not _login(tmp_path, conf, auth, "127.0.9.9", "nobody"), "an address not in the registry was served"

        store = Store.open(f"sqlite:///{state / 'idp.sqlite'}", create=False)
        with store.session() as s:
            users.add_user(s, GUEST, now=datetime.now(UTC), password=GUEST_PASSWORD, realm=DISASTER_REALM)
        store.dispose()
        admin = next(line.split()[1:3] for line in (state / "web-users.txt").read_text().splitlines()
                     if line.startswith("city-admin "))
        token = str(_api(web, "/api/v1/auth/token", body={"username": admin[0], "password": admin[1]})["token"])  # type: ignore[index]
        assert not _login(tmp_path, guest, auth, "127.0.1.1", "demo-ap-1"), "disaster credential outside an incident"
        ends = (datetime.now(UTC) + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
        incident = _api(web, "/api/v1/incidents", token, {"area": {"municipalities": ["131041"]}, "ends_at": ends,
                                                          "reason": "訓練 (demo test)"})
        assert isinstance(incident, dict) and incident["affected_aps"], incident
        figures["incident declared -> disaster credential accepted"] = _until(
            lambda: _login(tmp_path, guest, auth, "127.0.1.1", "demo-ap-1"), "accepted inside the incident")
        assert not _login(tmp_path, guest, auth, "127.0.1.2", "demo-ap-2"), "accepted outside the incident's area"
        _api(web, f"/api/v1/incidents/{incident['id']}/end", token, {})
        figures["incident ended -> disaster credential refused"] = _until(
            lambda: not _login(tmp_path, guest, auth, "127.0.1.1", "demo-ap-1"), "refused after the end")

        aps = [int(line.split()[0]) for line in (state / "ap-tokens.txt").read_text().splitlines()]
        assert _login(tmp_path, conf, auth, "127.0.1.2", "demo-ap-2")
        _api(web, f"/api/v1/aps/{aps[1]}", token, method="DELETE")
        figures["AP deleted -> refused"] = _until(
            lambda: not _login(tmp_path, conf, auth, "127.0.1.2", "demo-ap-2"), "a deleted AP refused")
        assert _login(tmp_path, conf, auth, "127.0.0.1", "demo-nas"), "the contract's NAS 127.0.0.1 was refused"
    finally:
        stop(proc)
    for what, seconds in figures.items():
        print(f"demo change delay: {what}: {seconds:.2f} s", file=sys.stderr)
