"""An AP added in the registry logs users in through the running ANP within 60 s; a removed AP is refused.

Real parts: the ANP as an operator runs it (``tsunagaru anp run``), our IdP in its own process behind a
static RadSec route, the registry exporter as a process (``tsunagaru sites anp-export --watch``) that
SIGHUPs the ANP, and eapol_test (wpa_supplicant's EAP client) as the AP, sending from the AP's own
loopback address (``-A 127.0.1.N``) with the AP's own secret. The ANP's inline clients cover only
127.0.0.1, so 127.0.1.N is admitted only while the registry lists it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.anp_stack import anp_ports, anp_toml, make_state, run_anp, run_idp
from tests.support.procs import need, running, wait_log
from tsunagaru.demo import eapol_conf
from tsunagaru.demo_state import REALM
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
