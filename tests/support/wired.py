"""A real 802.1X exchange without Wi-Fi: wpa_supplicant (wired driver, own network namespace) talks
EAPOL over a veth pair to hostapd (wired driver, root namespace), which is a RADIUS client of 127.0.0.1.

Follows /work/shared/recipes/wired-8021x.md. Every run gets unique namespace and interface names so
tests can run in parallel; the pair and the namespace are always removed, and the daemons are
stopped by pid. Where namespaces cannot be made (no root, no CAP_NET_ADMIN) the test is skipped.

    with veth_pair() as link:
        with hostapd(folder, link, auth_port=..., acct_port=...), supplicant(folder, link, network):
            wait_log(folder / "wpas.log", "CTRL-EVENT-EAP-SUCCESS")
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import missing, need, running, wait_log

SECRET = "testing123"


@dataclass(frozen=True)
class VethLink:
    namespace: str
    ap: str  # root namespace side, hostapd's interface
    sta: str  # inside ``namespace``, wpa_supplicant's interface
    sockets: Path  # a short folder for control sockets (AF_UNIX paths are limited to 108 bytes)


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=False, timeout=10)


@contextlib.contextmanager
def veth_pair() -> Iterator[VethLink]:
    """A veth pair with one end in a fresh namespace; skips the test when that is not allowed."""
    need("ip", "hostapd", "wpa_supplicant")
    tag = os.urandom(3).hex()
    link = VethLink(f"tsg-{tag}", f"tgap{tag}", f"tgst{tag}", Path(tempfile.mkdtemp(prefix="tsg-", dir="/tmp")))
    made = _ip("netns", "add", link.namespace)
    if made.returncode != 0:
        missing(f"cannot make a network namespace here ({made.stderr.strip()}); needs root or CAP_NET_ADMIN")
    try:
        for step in (("link", "add", link.ap, "type", "veth", "peer", "name", link.sta),
                     ("link", "set", link.sta, "netns", link.namespace),
                     ("link", "set", link.ap, "up"),
                     ("-n", link.namespace, "link", "set", link.sta, "up")):
            done = _ip(*step)
            if done.returncode != 0:
                missing(f"cannot set up the veth pair: ip {' '.join(step)}: {done.stderr.strip()}")
        yield link
    finally:
        _ip("link", "del", link.ap)
        _ip("netns", "del", link.namespace)
        for leftover in sorted(link.sockets.rglob("*"), reverse=True):
            with contextlib.suppress(OSError):
                leftover.unlink() if not leftover.is_dir() else leftover.rmdir()
        with contextlib.suppress(OSError):
            link.sockets.rmdir()


def hostapd_conf(link: VethLink, auth_port: int, acct_port: int) -> str:
    return f"""interface={link.ap}
driver=wired
ieee8021x=1
eapol_version=2
own_ip_addr=127.0.0.1
nas_identifier=ap0.test
auth_server_addr=127.0.0.1
auth_server_port={auth_port}
auth_server_shared_secret={SECRET}
acct_server_addr=127.0.0.1
acct_server_port={acct_port}
acct_server_shared_secret={SECRET}
radius_request_cui=1
ctrl_interface={link.sockets / 'hostapd'}
"""


@contextlib.contextmanager
def hostapd(folder: Path, link: VethLink, *, auth_port: int, acct_port: int) -> Iterator[Path]:
    """hostapd on ``link.ap`` as the authenticator; yields its log file."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "hostapd.conf"
    conf.write_text(hostapd_conf(link, auth_port, acct_port))
    log = folder / "hostapd.log"
    with running(["hostapd", "-d", str(conf)], log) as proc:
        wait_log(log, "interface state", timeout=10, proc=proc)
        yield log


@contextlib.contextmanager
def supplicant(folder: Path, link: VethLink, network: str) -> Iterator[Path]:
    """wpa_supplicant in ``link.namespace`` with one network block; yields its log file."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "wpa_supplicant.conf"
    conf.write_text(f"ctrl_interface={link.sockets / 'wpas'}\nap_scan=0\nnetwork={{\n{network}\n}}\n")
    log = folder / "wpas.log"
    argv = ["ip", "netns", "exec", link.namespace, "wpa_supplicant", "-D", "wired", "-i", link.sta,
            "-c", str(conf), "-d"]
    with running(argv, log):
        yield log
