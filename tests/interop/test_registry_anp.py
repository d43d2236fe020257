"""An AP added in the registry logs users in through the running ANP within 60 s; a removed AP is refused.

Real parts: the ANP as an operator runs it (``tsunagaru anp run``), our IdP in its own process behind a
static RadSec route, the registry exporter as a process (``tsunagaru sites anp-export --watch``) that
SIGHUPs the ANP, and as the AP either eapol_test (sending from the AP's own loopback address with
``-A 127.0.1.N`` and the AP's own secret) or, in the wired harness, hostapd (``radius_client_addr``)
with wpa_supplicant on the other end of a veth pair. The ANP's inline clients cover only 127.0.0.1,
so 127.0.1.N is admitted only while the registry lists it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.anp_stack import anp_ports, anp_toml, make_state, run_anp, run_idp
from tests.support.procs import need, running, wait_log
from tests.support.wired import hostapd_conf, supplicant, veth_pair
from tsunagaru.demo import eapol_conf
from tsunagaru.demo_state import NAS_SECRET, PASSWORD, REALM, USER
from tsunagaru.sites import service
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.sites.seed import seed_municipalities
from tsunagaru.store import Store

pytestmark = pytest.mark.interop
ROOT = Path(__file__).resolve().parents[2]
TSUNAGARU = ROOT / ".venv" / "bin" / "tsunagaru"
ADMIN = Principal("test", Role.CITY_ADMIN)
AP_ADDRESS = "127.0.1.77"
AP_SECRET = "registry-ap-secret"
DEADLINE = 60.0


def _login(folder: Path, state_conf: Path, port: int, timeout: int = 4) -> bool:
    done = subprocess.run(["eapol_test", "-c", str(state_conf), "-a", "127.0.0.1", "-p", str(port), "-s", AP_SECRET,
                           "-A", AP_ADDRESS, "-t", str(timeout), "-N", "32:s:ap-77"],
                          capture_output=True, text=True, timeout=timeout + 20, cwd=folder)
    return done.returncode == 0 and "SUCCESS" in done.stdout


def test_registry_ap_added_and_removed_while_the_anp_runs(tmp_path: Path) -> None:
    need("eapol_test")
    state = make_state(tmp_path / "state")
    conf = tmp_path / "ttls.conf"
    conf.write_text(eapol_conf(state, "TTLS"))
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "ap-77").write_text(AP_SECRET + "\n")
    db = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    store = Store.open(db)
    with store.session() as s:
        seed_municipalities(s, ADMIN)
        site = service.create_site(s, ADMIN, {"name": "都庁", "municipality_code": "131041", "lat": 35.6895,
                                              "lon": 139.6917, "address": "東京都新宿区西新宿2-8-1"})
    ports = anp_ports()
    anp_dir = tmp_path / "anp"
    with run_idp(state, tmp_path / "idp") as idp:
        text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                        routes=[(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])])
        text = text.replace('network = "127.0.0.0/8"', 'network = "127.0.0.1/32"')
        text = text.replace("[anp]\n", '[anp]\nclients_files = ["registry-clients.toml"]\n', 1)
        with run_anp(anp_dir, text, ports) as anp:
            exporter = [str(TSUNAGARU), "sites", "anp-export", "--db", db, "--out",
                        str(anp_dir / "registry-clients.toml"), "--secrets", str(secrets), "--reload-pid",
                        str(anp.pid), "--watch", "2"]
            with running(exporter, tmp_path / "exporter.log"):
                wait_log(tmp_path / "exporter.log", "0 clients (written")
                assert not _login(tmp_path, conf, anp.auth), "an AP not in the registry was served"

                with store.session() as s:
                    ap = service.create_ap(s, ADMIN, {"site_id": site.id, "name": "ap-77", "nas_network": AP_ADDRESS,
                                                      "nas_identifier": "ap-77", "secret_ref": "file:ap-77"})
                added = time.monotonic()
                while not _login(tmp_path, conf, anp.auth):
                    assert time.monotonic() - added < DEADLINE, "the new AP was not served within 60 s"
                took = time.monotonic() - added
                print(f"registry AP served after {took:.1f} s", file=sys.stderr)
                assert "configuration reloaded" in anp.log.read_text()

                with store.session() as s:
                    service.delete_ap(s, ADMIN, ap.id)
                removed = time.monotonic()
                while _login(tmp_path, conf, anp.auth):
                    assert time.monotonic() - removed < DEADLINE, "the removed AP was still served after 60 s"
    store.dispose()


WIRED_AP = "127.0.1.78"


def test_wired_hostapd_ap_added_in_the_registry(tmp_path: Path) -> None:
    """hostapd (wired) as the registry's AP: refused before it is in the registry, served after."""
    need("hostapd", "wpa_supplicant")
    state = make_state(tmp_path / "state")
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "wired").write_text("wired-ap-secret\n")
    db = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    store = Store.open(db)
    with store.session() as s:
        seed_municipalities(s, ADMIN)
        site = service.create_site(s, ADMIN, {"name": "区役所", "municipality_code": "131041"})
    network = (f'key_mgmt=IEEE8021X\neap=TTLS\nidentity="{USER}@{REALM}"\nanonymous_identity="anonymous@{REALM}"\n'
               f'password="{PASSWORD}"\nphase2="auth=PAP"\nca_cert="{state.path("ca.pem")}"\neapol_flags=0')
    ports = anp_ports()
    anp_dir = tmp_path / "anp"
    with run_idp(state, tmp_path / "idp") as idp:
        text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                        routes=[(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])])
        text = text.replace('network = "127.0.0.0/8"', 'network = "127.0.0.1/32"')
        text = text.replace("[anp]\n", '[anp]\nclients_files = ["registry-clients.toml"]\n', 1)
        with run_anp(anp_dir, text, ports) as anp, veth_pair() as link:
            conf = tmp_path / "hostapd.conf"
            conf.write_text(hostapd_conf(link, ports.auth, ports.acct)
                            .replace("own_ip_addr=127.0.0.1", f"own_ip_addr={WIRED_AP}\nradius_client_addr={WIRED_AP}")
                            .replace(NAS_SECRET, "wired-ap-secret"))
            exporter = [str(TSUNAGARU), "sites", "anp-export", "--db", db, "--out",
                        str(anp_dir / "registry-clients.toml"), "--secrets", str(secrets), "--reload-pid",
                        str(anp.pid), "--watch", "2"]
            with running(exporter, tmp_path / "exporter.log"), running(["hostapd", "-d", str(conf)],
                                                                        tmp_path / "hostapd.log") as ap:
                wait_log(tmp_path / "exporter.log", "0 clients (written")
                wait_log(tmp_path / "hostapd.log", "interface state", timeout=10, proc=ap)
                with supplicant(tmp_path / "before", link, network) as wlog, pytest.raises(TimeoutError):
                    wait_log(wlog, "CTRL-EVENT-EAP-SUCCESS", timeout=8)
                with store.session() as s:
                    service.create_ap(s, ADMIN, {"site_id": site.id, "name": "wired", "nas_network": WIRED_AP,
                                                 "secret_ref": "file:wired"})
                wait_log(anp.log, "configuration reloaded", timeout=DEADLINE)
                with supplicant(tmp_path / "after", link, network) as wlog:
                    try:
                        wait_log(wlog, "CTRL-EVENT-EAP-SUCCESS", timeout=30)
                    except TimeoutError:
                        raise AssertionError(f"no EAP success after the registry added the AP\n"
                                             f"hostapd: {(tmp_path / 'hostapd.log').read_text()[-2000:]}\n"
                                             f"anp: {anp.log.read_text()[-2000:]}") from None
    store.dispose()
