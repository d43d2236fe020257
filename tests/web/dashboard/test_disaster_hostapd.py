"""Disaster mode end to end: the API declares an incident, the AP agent (polling fast, 0.5 s, for the test)
pulls the new config with the 00000JAPAN BSS and reloads a real hostapd (wired driver on a veth pair in a
netns); the end gives the previous config back. The configs served before, during and after, and the audit
trail (declare, end), are checked on the same run. The delays are written to
``artefacts/dashboard/disaster-e2e.json`` (figures, not assertions).

Limit of this rig: hostapd's wired driver runs one BSS only, so the secondary ``bss=`` of the disaster plan
cannot come up here (hostapd tries it, "deinit bss wlan0-1", and the agent puts the last good config back
and reports the error). What is measured is declaration -> hostapd reloading the disaster config, and end ->
the config endpoint serving the previous config again; hostapd *running* 00000JAPAN needs a multi-BSS
driver (mac80211_hwsim or a real radio), which this machine does not have."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.support.agent_hostapd import agent_and_hostapd
from tests.support.procs import running, wait_log
from tests.support.wired import veth_pair
from tests.web.seed import PASSWORD, SHINJUKU
from tests.web.server import web_server

ARTEFACTS = Path(__file__).resolve().parents[3] / "artefacts" / "dashboard"
POLL = 0.5


def call(url: str, method: str = "GET", body: object | None = None, token: str | None = None) -> dict[str, object]:
    headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    req = urllib.request.Request(url, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return dict(json.loads(resp.read()))


def served(url: str, headers: dict[str, str]) -> bytes:
    """The config the endpoint serves the AP now (what its agent pulls)."""
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as resp:
        return bytes(resp.read())


def hostapd_runs(cli: list[str], wanted: bool, deadline: float) -> float:
    """The moment hostapd's running config has (or no longer has) the 00000JAPAN BSS."""
    while time.monotonic() < deadline:
        status = subprocess.run([*cli, "status"], capture_output=True, text=True, timeout=10).stdout
        if ("=00000JAPAN" in status) == wanted and "state=ENABLED" in status:
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError(f"hostapd did not {'add' if wanted else 'remove'} 00000JAPAN: {status}")


def test_declare_and_end_reach_hostapd(tmp_path: Path) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    with veth_pair() as link, web_server(tmp_path) as server, \
            agent_and_hostapd(tmp_path, link, server.url, server.seeded.shinjuku_ap,
                              server.seeded.ap_tokens[server.seeded.shinjuku_ap]) as rig:
        ap_id, conf, log, hostapd, cli = server.seeded.shinjuku_ap, rig.conf, rig.log, rig.hostapd, rig.cli
        argv = [*rig.agent, "--interval", str(POLL), "--jitter", "0", "--max-cycles", "400", "--log-level", "info"]
        with running(argv, tmp_path / "agent.log"):
            hostapd_runs(cli, False, time.monotonic() + 30)
            wait_log(tmp_path / "agent.log", "applied config", timeout=30)
            admin = call(server.url + "/api/v1/auth/token", "POST", {"username": "admin", "password": PASSWORD})
            token = str(admin["token"])
            ap_auth = {"Authorization": f"Bearer {server.seeded.ap_tokens[ap_id]}"}
            before = served(f"{server.url}/api/v1/aps/{ap_id}/config", ap_auth)
            assert b"00000JAPAN" not in before and "00000JAPAN" not in conf.read_text()  # pulled before
            ends = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
            seen = len(log.read_bytes())
            t0 = time.monotonic()
            incident = call(server.url + "/api/v1/incidents", "POST",
                            {"area": {"municipalities": [SHINJUKU]}, "ends_at": ends, "reason": "e2e"}, token)
            assert str(ap_id) in incident["affected_aps"]  # type: ignore[operator]
            assert b"ssid=00000JAPAN" in served(f"{server.url}/api/v1/aps/{ap_id}/config", ap_auth)  # during
            while b"Signal 1 received" not in log.read_bytes()[seen:]:  # the agent's SIGHUP with the new plan
                assert time.monotonic() < t0 + 60, "hostapd was not reloaded"
                time.sleep(0.02)
            t_on = time.monotonic()
            wait_log(log, "deinit bss wlan0-1", timeout=30, proc=hostapd)  # it did read the disaster BSS
            wait_log(tmp_path / "agent.log", "did not apply", timeout=30)
            hostapd_runs(cli, False, time.monotonic() + 30)  # the last good config is running again
            t1 = time.monotonic()
            call(f"{server.url}/api/v1/incidents/{incident['id']}/end", "POST", {}, token)
            while True:
                req = urllib.request.Request(f"{server.url}/api/v1/aps/{ap_id}/config", headers=ap_auth)
                with urllib.request.urlopen(req, timeout=10) as resp:
                    if b"00000JAPAN" not in resp.read():
                        break
                assert time.monotonic() < t1 + 30
                time.sleep(0.05)
            t_off = time.monotonic()
            assert "00000JAPAN" not in conf.read_text() and "ssid=OpenRoaming" in conf.read_text()
            assert served(f"{server.url}/api/v1/aps/{ap_id}/config", ap_auth) == before  # after: the previous plan
            audit = call(server.url + "/api/v1/audit?limit=10", token=token)["items"]
            assert [a["action"] for a in audit][:2] == ["incident.end", "incident.declare"]  # type: ignore[index]
        assert hostapd.poll() is None
        figures = {"poll_interval_s": POLL, "declare_to_hostapd_reload_s": round(t_on - t0, 3),
                   "end_to_previous_config_served_s": round(t_off - t1, 3)}
        (ARTEFACTS / "disaster-e2e.json").write_text(json.dumps(figures, indent=1))
        print(figures)
