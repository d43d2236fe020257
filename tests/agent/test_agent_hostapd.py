"""The agent against the real web app and a real hostapd (wired driver on a veth pair in a netns).

hostapd starts from a bootstrap config; the agent pulls the AP's config from ``tsunagaru web serve``,
writes it over the bootstrap file, reloads hostapd with SIGHUP, checks through the control interface
that hostapd is ENABLED with the new SSID, and reports; the registry then shows the AP "current".
A broken config is reported as an error and the last good one is put back.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path

from tests.support.agent_hostapd import agent_and_hostapd, wait_hostapd
from tests.support.procs import wait_log
from tests.support.wired import veth_pair
from tests.web.seed import PASSWORD
from tests.web.server import web_server


def _admin_token(url: str) -> str:
    req = urllib.request.Request(url + "/api/v1/auth/token", method="POST",
                                 data=json.dumps({"username": "admin", "password": PASSWORD}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return str(json.loads(resp.read())["token"])


def _ap_view(url: str, token: str, ap_id: int) -> dict[str, object]:
    req = urllib.request.Request(f"{url}/api/v1/aps/{ap_id}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return dict(json.loads(resp.read()))


def test_agent_applies_a_pulled_config_in_real_hostapd(tmp_path: Path) -> None:
    with veth_pair() as link, web_server(tmp_path) as server, \
            agent_and_hostapd(tmp_path, link, server.url, server.seeded.shinjuku_ap,
                              server.seeded.ap_tokens[server.seeded.shinjuku_ap]) as rig:
        ap_id, conf, log, hostapd = server.seeded.shinjuku_ap, rig.conf, rig.log, rig.hostapd
        argv = [*rig.agent, "--once"]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        wait_log(log, "Signal 1 received - reloading configuration", timeout=60, proc=hostapd)
        # the signal line comes before the reload is done: wait on hostapd itself
        wait_hostapd(rig, "get_config", lambda out: "ssid=OpenRoaming" in out)  # hostapd runs the pulled config
        wait_hostapd(rig, "status", lambda out: "state=ENABLED" in out)
        assert "ssid=OpenRoaming" in conf.read_text() and "hs20=1" in conf.read_text()
        admin = _admin_token(server.url)
        view = _ap_view(server.url, admin, ap_id)
        assert view["config_state"] == "current", view
        assert view["report_result"] == "applied"

        # a second cycle: 304, nothing rewritten
        mtime = conf.stat().st_mtime_ns
        done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert conf.stat().st_mtime_ns == mtime

        # a config hostapd cannot run (a key it does not know, set locally) -> error, last good back
        bad = [*argv[:-1], "--set", "no_such_hostapd_key=1", "--once", "--state-dir", str(tmp_path / "s2")]
        (tmp_path / "s2").mkdir()
        (tmp_path / "s2" / "last-good").write_text(conf.read_text())
        done = subprocess.run(bad, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 1
        assert "no_such_hostapd_key" not in conf.read_text()  # the last good config is back
        view = _ap_view(server.url, admin, ap_id)
        assert view["config_state"] == "failed" and view["report_result"] == "error", view
        assert hostapd.poll() is None  # hostapd kept running
