"""The agent against the real web app and a real hostapd (wired driver on a veth pair in a netns).

hostapd starts from a bootstrap config; the agent pulls the AP's config from ``tsunagaru web serve``,
writes it over the bootstrap file, reloads hostapd with SIGHUP, checks through the control interface
that hostapd is ENABLED with the new SSID, and reports; the registry then shows the AP "current".
A broken config is reported as an error and the last good one is put back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.procs import running, wait_log
from tests.support.wired import veth_pair
from tests.web.seed import PASSWORD
from tests.web.server import web_server

# hostapd's wired driver has no regulatory domain, no bridge here, and no proxy ARP without one
UNSET = ("country_code", "ieee80211d", "bridge", "proxy_arp")


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
    with veth_pair() as link, web_server(tmp_path) as server:
        ap_id = server.seeded.shinjuku_ap
        token_file = tmp_path / "ap.token"
        fd = os.open(token_file, os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, f"{ap_id} {server.seeded.ap_tokens[ap_id]}\n".encode())
        os.close(fd)
        ctrl_dir = link.sockets / "hostapd"
        conf = tmp_path / "hostapd.conf"
        conf.write_text(f"interface={link.ap}\ndriver=wired\nctrl_interface={ctrl_dir}\nssid=bootstrap\n"
                        "ieee8021x=1\nauth_server_addr=127.0.0.1\nauth_server_port=18120\n"
                        "auth_server_shared_secret=bootstrap-secret\n")
        log = tmp_path / "hostapd.log"
        with running(["hostapd", "-d", str(conf)], log) as hostapd:
            wait_log(log, "AP-ENABLED", timeout=10, proc=hostapd)
            pid_file = tmp_path / "hostapd.pid"
            pid_file.write_text(str(hostapd.pid))
            argv = [sys.executable, "-m", "tsunagaru.agent", "--url", server.url, "--token-file", str(token_file),
                    "--config", str(conf), "--pid-file", str(pid_file), "--ctrl", str(ctrl_dir / link.ap),
                    "--set", f"interface={link.ap}", "--set", "driver=wired", "--set", f"ctrl_interface={ctrl_dir}",
                    *[a for key in UNSET for a in ("--unset", key)], "--once"]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
            text = log.read_text()
            assert "Signal 1 received - reloading configuration" in text, text[-2000:]
            cli = ["hostapd_cli", "-p", str(ctrl_dir), "-i", link.ap]
            running_conf = subprocess.run([*cli, "get_config"], capture_output=True, text=True, timeout=10).stdout
            assert "ssid=OpenRoaming" in running_conf, running_conf  # hostapd runs the pulled config
            state = subprocess.run([*cli, "status"], capture_output=True, text=True, timeout=10).stdout
            assert "state=ENABLED" in state, state
            assert "ssid=OpenRoaming" in conf.read_text() and "hs20=1" in conf.read_text()
            admin = _admin_token(server.url)
            view = _ap_view(server.url, admin, ap_id)
            assert view["config_state"] == "current", view
            assert view["report_result"] == "applied"

            # a second cycle: 304, nothing rewritten
            mtime = conf.stat().st_mtime_ns
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 0, done.stderr
            assert conf.stat().st_mtime_ns == mtime

            # a config hostapd cannot run (a key it does not know, set locally) -> error, last good back
            bad = [*argv[:-1], "--set", "no_such_hostapd_key=1", "--once", "--state-dir", str(tmp_path / "s2")]
            (tmp_path / "s2").mkdir()
            (tmp_path / "s2" / "last-good").write_text(conf.read_text())
            done = subprocess.run(bad, capture_output=True, text=True, timeout=60, check=False)
            assert done.returncode == 1
            assert "no_such_hostapd_key" not in conf.read_text()  # the last good config is back
            view = _ap_view(server.url, admin, ap_id)
            assert view["config_state"] == "failed" and view["report_result"] == "error", view
            assert hostapd.poll() is None  # hostapd kept running
