"""A real hostapd (wired driver, on a veth pair) for the AP agent, as the agent and disaster tests use it:
a bootstrap config, hostapd started line-buffered and waited for, the agent's command line, and waits on
hostapd's own state through ``hostapd_cli`` (conditions with generous caps, never fixed sleeps).

hostapd logs "Signal 1 received" when the SIGHUP arrives, before the reload is done: a test that wants
the new config running waits on ``hostapd_cli`` for it, not on that line (a race seen under load).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import running, wait_log
from tests.support.wired import VethLink

# hostapd's wired driver has no regulatory domain, no bridge here, and no proxy ARP without one
UNSET = ("country_code", "ieee80211d", "bridge", "proxy_arp")


@dataclass(frozen=True)
class AgentRig:
    conf: Path  # the file hostapd runs and the agent rewrites
    log: Path  # hostapd's output, line-buffered
    hostapd: subprocess.Popen[bytes]
    cli: list[str]  # hostapd_cli for this interface; append a command
    agent: list[str]  # the agent's command line; append --once or --interval ...


@contextlib.contextmanager
def agent_and_hostapd(tmp: Path, link: VethLink, url: str, ap_id: int, ap_token: str) -> Iterator[AgentRig]:
    """hostapd running a bootstrap config on ``link``; the agent's argv for AP ``ap_id`` of the app at ``url``."""
    token_file = tmp / "ap.token"
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, f"{ap_id} {ap_token}\n".encode())
    os.close(fd)
    ctrl_dir = link.sockets / "hostapd"
    conf = tmp / "hostapd.conf"
    conf.write_text(f"interface={link.ap}\ndriver=wired\nctrl_interface={ctrl_dir}\nssid=bootstrap\n"
                    "ieee8021x=1\nauth_server_addr=127.0.0.1\nauth_server_port=18120\n"
                    "auth_server_shared_secret=bootstrap-secret\n")
    log = tmp / "hostapd.log"
    # line-buffered: hostapd's stdout is a file here, and the tests read it while hostapd runs
    with running(["stdbuf", "-oL", "hostapd", "-d", str(conf)], log) as hostapd:
        wait_log(log, "AP-ENABLED", timeout=60, proc=hostapd)
        pid_file = tmp / "hostapd.pid"
        pid_file.write_text(str(hostapd.pid))
        agent = [sys.executable, "-m", "tsunagaru.agent", "--url", url, "--token-file", str(token_file),
                 "--config", str(conf), "--pid-file", str(pid_file), "--ctrl", str(ctrl_dir / link.ap),
                 "--set", f"interface={link.ap}", "--set", "driver=wired", "--set", f"ctrl_interface={ctrl_dir}",
                 *[a for key in UNSET for a in ("--unset", key)]]
        yield AgentRig(conf, log, hostapd, ["hostapd_cli", "-p", str(ctrl_dir), "-i", link.ap], agent)


def wait_hostapd(rig: AgentRig, command: str, check: Callable[[str], bool], timeout: float = 60.0) -> str:
    """Poll ``hostapd_cli COMMAND`` until ``check`` holds for its output (which is returned)."""
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        if rig.hostapd.poll() is not None:
            raise AssertionError(f"hostapd exited with {rig.hostapd.returncode}")
        out = subprocess.run([*rig.cli, command], capture_output=True, text=True, timeout=30).stdout
        if check(out):
            return out
        time.sleep(0.05)
    raise AssertionError(f"hostapd_cli {command} within {timeout}s: {out}")
