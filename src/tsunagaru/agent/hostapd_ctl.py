"""Talking to a running hostapd: SIGHUP through its pid file, and its control interface (UNIX datagrams).

The control interface is a datagram socket per interface (``/var/run/hostapd/wlan0``); a client binds
its own socket, sends a command such as ``STATUS`` and reads one reply.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import tempfile
import time
from pathlib import Path


class ReloadFailed(Exception):
    """hostapd did not take the new config (no such process, FAIL, or not ENABLED afterwards)."""


def command(ctrl: Path, text: str, timeout: float = 3.0) -> str:
    """Send ``text`` to the control socket ``ctrl`` and return the reply."""
    local = Path(tempfile.gettempdir()) / f"tsg-agent-{os.getpid()}-{os.urandom(3).hex()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(str(local))
        try:
            s.settimeout(timeout)
            s.connect(str(ctrl))
            s.send(text.encode())
            return s.recv(65536).decode(errors="replace")
        except OSError as exc:
            raise ReloadFailed(f"control interface {ctrl}: {exc}") from None
        finally:
            with contextlib.suppress(OSError):
                local.unlink()


def status(ctrl: Path) -> dict[str, str]:
    reply = command(ctrl, "STATUS")
    return dict(line.split("=", 1) for line in reply.splitlines() if "=" in line)


def running_ssid(ctrl: Path) -> str | None:
    reply = command(ctrl, "GET_CONFIG")
    for line in reply.splitlines():
        if line.startswith("ssid="):
            return line[5:]
    return None


def sighup(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError) as exc:
        raise ReloadFailed(f"cannot signal hostapd via {pid_file}: {exc}") from None


def wait_enabled(ctrl: Path, expect_ssid: str | None, timeout: float = 8.0) -> str:
    """Wait until hostapd says ``state=ENABLED`` (and runs ``expect_ssid``); returns the STATUS state."""
    deadline = time.monotonic() + timeout
    state = "?"
    while time.monotonic() < deadline:
        with contextlib.suppress(ReloadFailed):
            state = status(ctrl).get("state", "?")
            if state == "ENABLED" and (expect_ssid is None or running_ssid(ctrl) == expect_ssid):
                return state
        time.sleep(0.2)
    raise ReloadFailed(f"hostapd is {state}" + (f", not running ssid {expect_ssid}" if expect_ssid else ""))


PROBE_INTERFACE = "tsg-probe0"  # an interface that does not exist: hostapd parses, then fails to open it


def precheck(text: str, hostapd: str = "hostapd", timeout: float = 10.0) -> None:
    """Let hostapd itself parse ``text`` before it replaces a running config.

    hostapd keeps the old config when a SIGHUP brings a file it cannot parse, and says so only in its
    log; so the agent runs the hostapd binary once on a copy (interface pointed at one that does not
    exist, no control socket) and refuses the config when hostapd reports configuration errors.
    """
    lines = [f"interface={PROBE_INTERFACE}" if line.startswith("interface=") else line
             for line in text.splitlines() if not line.startswith("ctrl_interface")]
    fd, name = tempfile.mkstemp(prefix="tsg-probe-", suffix=".conf")
    try:
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        import subprocess

        done = subprocess.run([hostapd, name], capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return  # no hostapd binary here (a controller platform): nothing to check with
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    output = done.stdout + done.stderr
    if "errors found in configuration file" in output or "unknown configuration item" in output:
        errors = [line for line in output.splitlines() if line.startswith("Line ") or "errors found" in line]
        raise ReloadFailed("hostapd refuses the config: " + "; ".join(errors[:5]).replace(name, "config"))
