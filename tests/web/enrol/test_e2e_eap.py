"""Deliver 3: credentials made by the portal log in with eapol_test through the ANP to the IdP (the demo's
whole chain: RADIUS/UDP -> ANP -> RFC 7585 discovery -> RadSec -> IdP), and after revocation in the portal
the same credential is refused. The time from revocation to the first refusal is measured and printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.demo import demo_argv, demo_ports
from tests.support.procs import need, stop, wait_log
from tests.web.enrol.conftest import SECRET, Clock, PortalEnv, api_signup, make_app
from tsunagaru.demo_state import REALM
from tsunagaru.store import Store
from tsunagaru.web.enrol.mail import OutboxSink, SmtpSettings
from tsunagaru.web.enrol.setup import portal_from_state

REVOCATION_BOUND = 60.0  # seconds (issue 12)


def _eapol(conf: Path, port: int) -> bool:
    run = subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(port), "-s", "testing123",
                          "-t", "10"], capture_output=True, text=True, timeout=40)
    return run.stdout.rstrip().endswith("SUCCESS")


def _tunnel_conf(path: Path, state: Path, method: str, phase2: str, username: str, password: str) -> Path:
    path.write_text("\n".join([
        "network={", " key_mgmt=IEEE8021X", " eapol_flags=0", f" eap={method}", f' identity="{username}"',
        f' anonymous_identity="anonymous@{REALM}"', f' password="{password}"', f' phase2="auth={phase2}"',
        f' ca_cert="{state / "ca.pem"}"', f' domain_suffix_match="{REALM}"', "}", ""]))
    return path


def _wired(profile: str) -> str:
    """The portal's wpa_supplicant download with its network block turned to an 802.1X port (eapol_test)."""
    text = re.sub(r"cred=\{.*?\n\}\n", "", profile, flags=re.S)
    return re.sub(r'\tssid=.*?\n\tkey_mgmt=.*?\n\tieee80211w=1\n', "\tkey_mgmt=IEEE8021X\n\teapol_flags=0\n", text)


@pytest.mark.interop
def test_portal_credentials_log_in_and_revocation_reaches_radius(tmp_path: Path) -> None:
    need("eapol_test")
    ports = demo_ports()  # every port, the web app's and the metrics' too: not the defaults of a demo in use
    auth = ports["auth"]
    state, out = tmp_path / "state", tmp_path / "demo.out"
    argv = demo_argv(state, ports)
    with open(out, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
    sink = OutboxSink(tmp_path / "outbox").start()
    store: Store | None = None
    try:
        wait_log(out, "\nready", timeout=90, proc=proc)
        store = Store.open(f"sqlite:///{state / 'idp.sqlite'}")  # the IdP's own store: the portal writes there
        portal = portal_from_state(state, store, realm=REALM, secret=SECRET, smtp=SmtpSettings(port=sink.port))
        clock = Clock()
        portal.now = clock
        penv = PortalEnv(state, store, sink, portal, make_app(portal), clock)
        with TestClient(penv.app, base_url="http://127.0.0.1:8080") as client:
            bearer = {"Authorization": f"Bearer {api_signup(client, penv, 'e2e@example.org')}"}
            ttls = client.post("/api/v1/enrol/devices", json={"platform": "wpa_supplicant", "method": "ttls"},
                               headers=bearer).json()
            tls = client.post("/api/v1/enrol/devices", json={"platform": "wpa_supplicant", "method": "tls"},
                              headers=bearer).json()
            tls_conf = tmp_path / "tls.conf"
            tls_conf.write_text(_wired(client.get(tls["profile_url"]).text))
            ttls_profile = tmp_path / "ttls-profile.conf"
            ttls_profile.write_text(_wired(client.get(ttls["profile_url"]).text))
            confs = {
                "TTLS/PAP": _tunnel_conf(tmp_path / "pap.conf", state, "TTLS", "PAP", ttls["username"],
                                         ttls["password"]),
                "TTLS/MSCHAPv2": _tunnel_conf(tmp_path / "mschap.conf", state, "TTLS", "MSCHAPV2",
                                              ttls["username"], ttls["password"]),
                "PEAP/MSCHAPv2": _tunnel_conf(tmp_path / "peap.conf", state, "PEAP", "MSCHAPV2", ttls["username"],
                                              ttls["password"]),
                "TTLS profile (wpa_supplicant download)": ttls_profile,
                "EAP-TLS profile (wpa_supplicant download)": tls_conf,
            }
            for name, conf in confs.items():
                assert _eapol(conf, auth), f"{name} did not log in"
            timings: dict[str, float] = {}
            for device, conf in ((ttls, confs["TTLS/MSCHAPv2"]), (tls, tls_conf)):
                assert _eapol(conf, auth)  # a fresh login: the IdP's cache holds the credential as valid
                assert client.delete(f"/api/v1/enrol/devices/{device['id']}", headers=bearer).status_code == 200
                revoked = time.monotonic()
                while _eapol(conf, auth):
                    assert time.monotonic() - revoked < REVOCATION_BOUND + 5, "revocation did not reach RADIUS"
                    time.sleep(1.0)
                timings[device["method"]] = time.monotonic() - revoked
            for method, seconds in timings.items():
                print(f"revocation of a {method} device refused after {seconds:.1f} s", file=sys.stderr)
                assert seconds <= REVOCATION_BOUND
            for name in ("TTLS/PAP", "PEAP/MSCHAPv2"):
                assert not _eapol(confs[name], auth), f"{name} still logs in after revocation"
    finally:
        sink.stop()
        if store is not None:
            store.dispose()
        stop(proc)
