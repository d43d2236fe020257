"""A change made in the store reaches a running ANP and IdP within 60 s, each delay measured (printed).

Real parts: a private PostgreSQL holding every table (the registry, incidents, the IdP's users), our IdP
as ``tsunagaru idp serve`` on it, the ANP as ``tsunagaru anp run`` with ``anp.clients_db`` on it (its
only static client is 127.0.0.1), and eapol_test (TTLS/PAP) as the AP, sending from the AP's own
loopback address with the AP's own secret. What is measured: a new AP is served; a user disabled is
refused at the IdP (its 30 s credential cache forgotten on NOTIFY); an AP in a declared incident
accepts the disaster credential, and once the incident is ended the ANP refuses it; a removed AP is
refused. Each delay runs from the commit to the ANP's "registry clients reloaded" line (or, for the
IdP, to the first refused login), bounded by 60 s.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.support.anp_stack import anp_ports, anp_toml, make_state, run_anp
from tests.support.pgserver import PgServer
from tests.support.procs import free_port, need, running, wait_log
from tests.support.store_backends import pg_server  # noqa: F401  (the session's PostgreSQL fixture)
from tsunagaru.demo import eapol_conf
from tsunagaru.demo_state import DISASTER_REALM, NAS_SECRET, PASSWORD, REALM, USER, DemoPorts, DemoState, idp_config
from tsunagaru.idp import users
from tsunagaru.sites import service
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.sites.seed import seed_municipalities
from tsunagaru.store import Store
from tsunagaru.store.incident_tables import IncidentRow

pytestmark = pytest.mark.interop
ADMIN = Principal("test", Role.CITY_ADMIN)
AP_ADDRESS, AP_SECRET = "127.0.1.93", "registry-ap-secret-93"
GUEST, GUEST_PASSWORD = "guest", "shelter-guest-password"
DEADLINE = 60.0


def _eapol(folder: Path, conf: Path, port: int, source: str, secret: str, timeout: int = 3) -> bool:
    done = subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(port), "-s", secret,
                           "-A", source, "-t", str(timeout), "-N", "32:s:ap-93"],
                          capture_output=True, text=True, timeout=timeout + 20, cwd=folder)
    return done.returncode == 0 and "SUCCESS" in done.stdout


def _reloads(log: Path) -> int:
    return log.read_text(errors="replace").count("registry clients reloaded")


def _wait_reload(log: Path, before: int, since: float) -> float:
    """Seconds from ``since`` until the ANP logged one more registry reload than ``before``."""
    while _reloads(log) <= before:
        assert time.monotonic() - since < DEADLINE, f"no registry reload within {DEADLINE:.0f} s"
        time.sleep(0.02)
    return time.monotonic() - since


def _idp_on(state: DemoState, folder: Path, url: str) -> tuple[list[str], Path, int]:
    folder.mkdir(parents=True, exist_ok=True)
    ports = DemoPorts(idp_radsec=free_port(socket.SOCK_STREAM), idp_udp=free_port(socket.SOCK_DGRAM),
                      idp_metrics=free_port(socket.SOCK_STREAM))
    text = idp_config(state, ports).replace(f'db = "{state.db_url}"', f'db = "{url}"')
    text = text.replace('metrics = "127.0.0.1:', '# metrics = "')
    config = folder / "idp.toml"
    config.write_text(text)
    return [sys.executable, "-m", "tsunagaru", "idp", "serve", "--config", str(config)], folder / "idp.log", \
        ports.idp_radsec


def test_changes_reach_the_anp_and_the_idp_within_a_minute(tmp_path: Path, pg_server: PgServer) -> None:  # noqa: F811
    need("eapol_test")
    state = make_state(tmp_path / "state")
    user_conf, guest_conf = tmp_path / "user.conf", tmp_path / "guest.conf"
    user_conf.write_text(eapol_conf(state, "TTLS"))
    guest_conf.write_text(eapol_conf(state, "TTLS").replace(f"{USER}@{REALM}", f"{GUEST}@{DISASTER_REALM}")
                          .replace(f"anonymous@{REALM}", f"anonymous@{DISASTER_REALM}")
                          .replace(PASSWORD, GUEST_PASSWORD))
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    (secrets / "ap-93").write_text(AP_SECRET + "\n")
    figures: dict[str, float] = {}
    with pg_server.database() as url:
        store = Store.open(url)
        now = datetime.now(UTC)
        with store.session() as s:
            seed_municipalities(s, ADMIN)
            site = service.create_site(s, ADMIN, {"name": "都庁", "municipality_code": "131041", "lat": 35.6895,
                                                  "lon": 139.6917, "address": "東京都新宿区西新宿2-8-1"})
            users.add_user(s, USER, now=now, password=PASSWORD, realm=REALM)
            users.add_user(s, GUEST, now=now, password=GUEST_PASSWORD, realm=DISASTER_REALM)
        argv, idp_log, radsec = _idp_on(state, tmp_path / "idp", url)
        with running(argv, idp_log) as idp:
            wait_log(idp_log, "idp listening", timeout=30, proc=idp)
            ports = anp_ports()
            peer = [f"127.0.0.1:{radsec}/{REALM}"]
            text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                            routes=[(REALM, peer), (DISASTER_REALM, peer)])
            text = text.replace('network = "127.0.0.0/8"', 'network = "127.0.0.1/32"')
            text = text.replace("[anp]\n", f'[anp]\nclients_db = "{url}"\nclients_secrets = "{secrets}"\n'
                                f'clients_poll = 30\ndisaster_realms = ["{DISASTER_REALM}"]\n', 1)
            with run_anp(tmp_path / "anp", text, ports) as anp:
                assert not _eapol(tmp_path, user_conf, anp.auth, AP_ADDRESS, AP_SECRET), "an unknown AP was served"

                seen = _reloads(anp.log)
                with store.session() as s:
                    ap = service.create_ap(s, ADMIN, {"site_id": site.id, "name": "ap-93", "nas_network": AP_ADDRESS,
                                                      "nas_identifier": "ap-93", "secret_ref": "file:ap-93"})
                figures["AP added -> ANP reloaded"] = _wait_reload(anp.log, seen, time.monotonic())
                assert _eapol(tmp_path, user_conf, anp.auth, AP_ADDRESS, AP_SECRET), "the new AP was not served"

                assert _eapol(tmp_path, user_conf, anp.auth, "127.0.0.1", NAS_SECRET)  # cached at the IdP now
                with store.session() as s:
                    users.disable_user(s, USER, now=datetime.now(UTC))
                revoked = time.monotonic()
                while _eapol(tmp_path, user_conf, anp.auth, "127.0.0.1", NAS_SECRET):
                    assert time.monotonic() - revoked < DEADLINE, "a disabled user was still accepted after 60 s"
                figures["user disabled -> refused at the IdP"] = time.monotonic() - revoked

                assert not _eapol(tmp_path, guest_conf, anp.auth, AP_ADDRESS, AP_SECRET), "disaster credential " \
                    "accepted outside an incident"
                seen = _reloads(anp.log)
                with store.session() as s:
                    start = datetime.now(UTC)
                    s.add(IncidentRow(id="quake", area={"municipalities": ["131041"]}, starts_at=start,
                                      ends_at=start + timedelta(hours=6), reason="地震", status="approved",
                                      affected=[str(ap.id)], municipality_code=None, declared_by="test",
                                      declared_at=start, approved_by="test", approved_at=start, updated_at=start))
                figures["incident declared -> ANP reloaded"] = _wait_reload(anp.log, seen, time.monotonic())
                assert _eapol(tmp_path, guest_conf, anp.auth, AP_ADDRESS, AP_SECRET), "refused inside the incident"

                seen = _reloads(anp.log)
                with store.session() as s:
                    s.execute(update(IncidentRow).where(IncidentRow.id == "quake").values(
                        status="ended", ended_at=datetime.now(UTC), ended_by="test", updated_at=datetime.now(UTC)))
                figures["incident ended -> ANP reloaded"] = _wait_reload(anp.log, seen, time.monotonic())
                assert not _eapol(tmp_path, guest_conf, anp.auth, AP_ADDRESS, AP_SECRET), "accepted after the end"
                assert "disaster credential from a client in no active incident" in anp.log.read_text()

                seen = _reloads(anp.log)
                with store.session() as s:
                    service.delete_ap(s, ADMIN, ap.id)
                figures["AP removed -> ANP reloaded"] = _wait_reload(anp.log, seen, time.monotonic())
                assert not _eapol(tmp_path, user_conf, anp.auth, AP_ADDRESS, AP_SECRET), "a removed AP was served"
        store.dispose()
    for what, seconds in figures.items():
        print(f"change delay: {what}: {seconds:.2f} s", file=sys.stderr)
    assert all(seconds < DEADLINE for seconds in figures.values())
