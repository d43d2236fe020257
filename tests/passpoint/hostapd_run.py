"""Run Debian's hostapd on a rendered config with the wired driver, on a veth whose AP end sits in a
bridge (HS2.0's proxy_arp wants one), and report what hostapd said.

What changes from the rendered file, and why: ``interface``/``driver=wired``/``bridge`` point at the veth
and bridge this test made; ``ctrl_interface`` goes to a private folder; ``country_code``/``ieee80211d``
are dropped (the wired driver never leaves COUNTRY_UPDATE with them) and ``bssid`` too (wired uses the
interface's address); RADIUS ports go to free ports (the demo's 1812/1813 may be in use). Every
Passpoint key stays. Two things the wired driver cannot do are checked apart: several BSSes (each BSS
runs alone) and proxy_arp's hairpin set-up (the whole file is parsed with it; the run sets it to 0).
hostapd missing is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import free_port, running

DROPPED = ("country_code", "ieee80211d", "bssid", "driver", "interface", "bss", "bridge", "ctrl_interface")
ERRORS_FOUND = re.compile(r"^\d+ errors found in configuration file", re.M)


@dataclass(frozen=True)
class WiredLink:
    ap: str
    bridge: str
    sockets: Path
    sta: str = ""
    namespace: str = ""  # set when the station end was moved into its own namespace


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


def hostapd_binary() -> str:
    path = shutil.which("hostapd") or ("/usr/sbin/hostapd" if Path("/usr/sbin/hostapd").exists() else None)
    assert path, "hostapd is not installed (scripts/install-deps.sh test installs it): this test needs it"
    return path


@contextlib.contextmanager
def wired_link(station_namespace: bool = False) -> Iterator[WiredLink]:
    """A bridge with one veth end in it; the other end optionally in a fresh namespace (for a supplicant)."""
    tag = os.urandom(3).hex()
    link = WiredLink(f"tpa{tag}", f"tpbr{tag}", Path(tempfile.mkdtemp(prefix="tpp-", dir="/tmp")), f"tpb{tag}",
                     f"tpns-{tag}" if station_namespace else "")
    try:
        _ip("link", "add", link.bridge, "type", "bridge")
        _ip("link", "add", link.ap, "type", "veth", "peer", "name", link.sta)
        _ip("link", "set", link.ap, "master", link.bridge)
        if link.namespace:
            _ip("netns", "add", link.namespace)
            _ip("link", "set", link.sta, "netns", link.namespace)
            _ip("-n", link.namespace, "link", "set", link.sta, "up")
        else:
            _ip("link", "set", link.sta, "up")
        for dev in (link.bridge, link.ap):
            _ip("link", "set", dev, "up")
        yield link
    finally:
        for dev in (link.ap, link.bridge):
            with contextlib.suppress(RuntimeError):
                _ip("link", "del", dev)
        if link.namespace:
            with contextlib.suppress(RuntimeError):
                _ip("netns", "del", link.namespace)
        shutil.rmtree(link.sockets, ignore_errors=True)


def split_bsses(text: str) -> tuple[list[str], list[list[str]]]:
    """(radio lines, [lines of each BSS]) of one hostapd.conf, comments dropped."""
    radio: list[str] = []
    bsses: list[list[str]] = []
    seen_blank = False
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            seen_blank = seen_blank or bool(radio)
            continue
        if line.startswith("bss=") or (seen_blank and not bsses):
            bsses.append([])
        (bsses[-1] if bsses else radio).append(line)
    return radio, bsses


def wired(lines: list[str], link: WiredLink, ports: tuple[int, int], *, proxy_arp: bool) -> str:
    """The lines for the wired driver; ``bss=`` sections are kept (renamed) for the whole-file parse."""
    out = [f"interface={link.ap}", "driver=wired", f"bridge={link.bridge}", f"ctrl_interface={link.sockets}"]
    for line in lines:
        key, _, value = line.partition("=")
        if key == "bss":
            out.extend((f"bss={link.ap[:11]}b{sum(o.startswith('bss=') for o in out)}", f"bridge={link.bridge}"))
            continue
        if key in DROPPED:
            continue
        if key == "auth_server_port":
            value = str(ports[0])
        elif key == "acct_server_port":
            value = str(ports[1])
        elif key == "proxy_arp" and not proxy_arp:
            value = "0"
        out.append(f"{key}={value}")
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class Outcome:
    enabled: bool
    parse_errors: list[str]
    log: str


def run_hostapd(conf: str, folder: Path, *, timeout: float = 10.0) -> Outcome:
    """Start hostapd on ``conf`` until AP-ENABLED, exit or timeout; stopped by pid."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"hostapd-{time.monotonic_ns()}.conf"
    path.write_text(conf, encoding="utf-8")
    log = path.with_suffix(".log")
    with running([hostapd_binary(), "-d", str(path)], log) as proc:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None:
            if "AP-ENABLED" in log.read_text(errors="replace"):
                break
            time.sleep(0.05)
    text = log.read_text(errors="replace")
    return Outcome("AP-ENABLED" in text, parse_errors(text), text)


def parse_errors(log: str) -> list[str]:
    """hostapd's complaints about the file: the lines between "Configuration file:" and "N errors found"."""
    found = ERRORS_FOUND.search(log)
    if not found:
        return []
    start = log.find("Configuration file:")
    head = log[log.find("\n", start) + 1:found.end()] if start >= 0 else log[:found.end()]
    return [line for line in head.splitlines() if line.strip()]


def ports() -> tuple[int, int]:
    return free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)  # RADIUS auth and accounting
