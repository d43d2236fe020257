"""`tsunagaru demo` as a user runs it, for the enrolment paths: the banner names the portal and the outbox,
the code arrives in ``DIR/outbox/*.eml``, a device made through the API logs in through the demo's ANP."""

from __future__ import annotations

import email
import email.policy
import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.demo import demo_argv, demo_ports
from tests.support.procs import need, stop, wait_log
from tests.web.enrol.test_demo_contract import _call
from tests.web.enrol.test_e2e_eap import _eapol, _tunnel_conf


@pytest.mark.interop
def test_demo_enrols_a_device_that_logs_in(tmp_path: Path) -> None:
    need("eapol_test")
    ports = demo_ports()
    auth, web = ports["auth"], ports["web"]
    state, out = tmp_path / "state", tmp_path / "demo.out"
    argv = demo_argv(state, ports)
    with open(out, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_log(out, "\nready", timeout=120, proc=proc)
        banner = out.read_text()
        assert f"http://127.0.0.1:{web}/enrol/" in banner and f"{state / 'outbox'}/*.eml" in banner
        base = f"http://127.0.0.1:{web}"
        assert _call("POST", base + "/api/v1/enrol/start", {"email": "demo@example.org", "lang": "ja"})[0] == 202
        (eml,) = sorted((state / "outbox").glob("*.eml"))
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        assert "つながる" in str(msg["Subject"])
        code = re.search(r"\b(\d{6})\b", msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        assert code
        token = json.loads(_call("POST", base + "/api/v1/enrol/verify",
                                 {"email": "demo@example.org", "code": code.group(1)})[2])["token"]
        status, _, body = _call("POST", base + "/api/v1/enrol/devices", {"platform": "android", "method": "ttls"},
                                token)
        assert status == 201, body
        device = json.loads(body)
        status, headers, _ = _call("GET", device["profile_url"])
        assert status == 200 and headers["content-type"].startswith("application/x-wifi-config")
        conf = _tunnel_conf(tmp_path / "peap.conf", state, "PEAP", "MSCHAPV2", device["username"], device["password"])
        assert _eapol(conf, auth)
        assert _call("DELETE", f"{base}/api/v1/enrol/devices/{device['id']}", token=token)[0] == 200
        page = _call("GET", base + "/enrol/?lang=ja")
        assert page[0] == 200 and "つながる" in page[2].decode()
    finally:
        stop(proc)
    assert "Traceback" not in out.read_text()
