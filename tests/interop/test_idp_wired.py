"""A real 802.1X exchange: wpa_supplicant (in its own network namespace) -> veth -> hostapd (wired
driver, RADIUS client) -> our IdP's RADIUS/UDP port. See /work/shared/recipes/wired-8021x.md.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.idp_process import IdpRun, demo, idp_process
from tests.support.procs import missing, need, running, wait_log
from tsunagaru.demo_state import NAS_SECRET, PASSWORD, REALM, USER, DemoState

pytestmark = pytest.mark.interop
_serial = itertools.count()


def _ip(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *argv], capture_output=True, text=True, timeout=10, check=False)


@pytest.fixture
def veth() -> Iterator[tuple[str, str, str]]:
    """(netns, AP-side interface, station-side interface), unique per test; removed afterwards."""
    need("ip", "hostapd", "wpa_supplicant")
    tag = f"{os.getpid() % 100000}{next(_serial)}"
    ns, ap, sta = f"tsn-idp-{tag}", f"tsa{tag}", f"tss{tag}"
    made = _ip("netns", "add", ns)
    if made.returncode != 0:
        missing(f"cannot create a network namespace here: {made.stderr.strip()}")
    try:
        for argv in (("link", "add", ap, "type", "veth", "peer", "name", sta), ("link", "set", sta, "netns", ns),
                     ("link", "set", ap, "up"), ("-n", ns, "link", "set", sta, "up")):
            done = _ip(*argv)
            if done.returncode != 0:
                missing(f"cannot set up the veth pair: {done.stderr.strip()}")
        yield ns, ap, sta
    finally:
        _ip("link", "del", ap)
        _ip("netns", "del", ns)


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> DemoState:
    return demo(tmp_path_factory.mktemp("idp-wired-state"))


@pytest.fixture(scope="module")
def idp(state: DemoState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdpRun]:
    with idp_process(state, tmp_path_factory.mktemp("idp"), radsec=False) as run:
        yield run


def _hostapd_conf(folder: Path, ap: str, port: int) -> Path:
    conf = folder / "hostapd.conf"
    conf.write_text(f"""interface={ap}
driver=wired
ieee8021x=1
eapol_version=2
own_ip_addr=127.0.0.1
nas_identifier={ap}.test
auth_server_addr=127.0.0.1
auth_server_port={port}
auth_server_shared_secret={NAS_SECRET}
radius_request_cui=1
ctrl_interface={folder / 'hostapd-ctrl'}
""")
    return conf


NETWORKS = {
    "ttls-mschapv2": f'eap=TTLS\nidentity="{USER}@{REALM}"\nanonymous_identity="anonymous@{REALM}"\n'
                     f'password="{PASSWORD}"\nphase2="auth=MSCHAPV2"\n',
    "eap-tls": f'eap=TLS\nidentity="{USER}@{REALM}"\nclient_cert="@STATE@/alice.pem"\n'
               f'private_key="@STATE@/alice.key"\n',
}


@pytest.mark.parametrize("method", list(NETWORKS))
def test_wired_8021x_through_hostapd(tmp_path: Path, state: DemoState, idp: IdpRun, veth: tuple[str, str, str],
                                     method: str) -> None:
    ns, ap, sta = veth
    network = NETWORKS[method].replace("@STATE@", str(state.root))
    wpas_conf = tmp_path / "wpas.conf"
    wpas_conf.write_text(f"ctrl_interface={tmp_path / 'wpas-ctrl'}\nap_scan=0\nnetwork={{\nkey_mgmt=IEEE8021X\n"
                         f'{network}ca_cert="{state.path("ca.pem")}"\neapol_flags=0\n}}\n')
    hostapd_log, wpas_log = tmp_path / "hostapd.log", tmp_path / "wpas.log"
    with running(["hostapd", "-d", str(_hostapd_conf(tmp_path, ap, idp.udp_port))], hostapd_log) as hostapd:
        wait_log(hostapd_log, "interface state", proc=hostapd)
        argv = ["ip", "netns", "exec", ns, shutil.which("wpa_supplicant") or "wpa_supplicant", "-D", "wired",
                "-i", sta, "-c", str(wpas_conf), "-d"]
        with running(argv, wpas_log) as wpas:
            wait_log(wpas_log, "CTRL-EVENT-EAP-SUCCESS", timeout=30, proc=wpas)
        wait_log(hostapd_log, "IEEE 802.1X: authorizing port", timeout=10, proc=hostapd)
    assert "CTRL-EVENT-EAP-SUCCESS2" in hostapd_log.read_text(errors="replace")
