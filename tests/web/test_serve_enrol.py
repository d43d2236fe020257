"""``tsunagaru web serve`` with ``[enrol]`` and ``[jobs]`` as an operator runs it: a real process, a real SMTP
server (aiosmtpd) taking the sign-up mail, the device credential landing in the IdP's store, the jobs
running (logged) in the same process; and the ``[enrol]``/``[jobs]`` tables parsed strictly."""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import socket
import sys
import time
from pathlib import Path

import pytest

from tests.support.procs import free_port, running, wait_tcp
from tests.web.enrol.conftest import make_state
from tests.web.enrol.test_demo_contract import _call
from tsunagaru.idp import users
from tsunagaru.store import Store
from tsunagaru.tomlconf import ConfigError
from tsunagaru.web import config
from tsunagaru.web.enrol.mail import OutboxSink

REALM = "idp.tsunagaru.test"


def web_toml(tmp: Path, port: int, smtp_port: int, extra: str = "") -> str:
    return f"""[web]
listen = "127.0.0.1:{port}"
db = "sqlite:///web.sqlite"
public_url = "http://127.0.0.1:{port}"

[enrol]
realm = "{REALM}"
ca_file = "state/ca.pem"
server_names = ["{REALM}"]
user_ca_dir = "state"
idp_db = "sqlite:///state/idp.sqlite"
code_minutes = 5
device_days = 30
reminder_days = 7

[enrol.smtp]
host = "127.0.0.1"
port = {smtp_port}
sender = "City Wi-Fi <noreply@wifi.city.example>"

[jobs]
alerts_minutes = 0.25
usage_minutes = 0.5
{extra}"""


def jobs_done(log: Path) -> set[str]:
    done = set()
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"job done"' in line:
            done.add(json.loads(line).get("job"))
    return done


@pytest.mark.interop
def test_web_serve_runs_the_portal_and_the_jobs(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    make_state(tmp_path / "state", datetime.now(UTC))
    sink = OutboxSink(tmp_path / "outbox").start()
    port = free_port(socket.SOCK_STREAM)
    (tmp_path / "web.toml").write_text(web_toml(tmp_path, port, sink.port))
    log = tmp_path / "web.log"
    argv = [sys.executable, "-m", "tsunagaru", "web", "serve", "--config", str(tmp_path / "web.toml")]
    try:
        with running(argv, log, cwd=tmp_path) as proc:
            wait_tcp(port, timeout=60, proc=proc)
            base = f"http://127.0.0.1:{port}"
            status, _, body = _call("POST", base + "/api/v1/enrol/start", {"email": "resident@example.org",
                                                                           "lang": "en"})
            assert status == 202, body
            deadline = time.monotonic() + 10
            while not sink.messages() and time.monotonic() < deadline:
                time.sleep(0.05)
            (eml,) = sink.messages()
            msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
            assert str(msg["From"]) == "City Wi-Fi <noreply@wifi.city.example>"
            code = re.search(r"\b(\d{6})\b", msg.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            assert code
            status, _, body = _call("POST", base + "/api/v1/enrol/verify", {"email": "resident@example.org",
                                                                            "code": code.group(1)})
            assert status == 200, body
            token = json.loads(body)["token"]
            status, _, body = _call("POST", base + "/api/v1/enrol/devices", {"platform": "android", "method": "tls"},
                                    token)
            assert status == 201, body  # EAP-TLS is offered: user_ca_dir holds the user CA
            device = json.loads(body)
            assert _call("GET", base + "/enrol/?lang=en")[0] == 200
            deadline = time.monotonic() + 30
            while not {"alerts", "usage", "purge", "enrol-sweep"} <= jobs_done(log) and time.monotonic() < deadline:
                assert proc.poll() is None
                time.sleep(0.2)
            assert {"alerts", "usage", "purge", "enrol-sweep"} <= jobs_done(log), log.read_text()[-3000:]
        store = Store.open(f"sqlite:///{tmp_path / 'state' / 'idp.sqlite'}")
        try:
            with store.session() as s:
                assert users.list_certificates(s, device["username"])  # in the IdP's store, not the web's
        finally:
            store.dispose()
    finally:
        sink.stop()
    text = log.read_text()
    assert "Traceback" not in text and "resident@example.org" not in text


def test_enrol_and_jobs_tables_are_strict(tmp_path: Path) -> None:
    make = lambda extra="", enrol="": (  # noqa: E731
        f'[web]\ndb = "sqlite:///x"\n[enrol]\nrealm = "{REALM}"\nca_file = "ca.pem"\n{enrol}'
        f'[enrol.smtp]\nsender = "a <a@b.example>"\n{extra}')
    ok = config.parse(make(), base=tmp_path)
    assert ok.enrol is not None and ok.enrol.smtp.port == 25 and ok.enrol.ca_file == tmp_path / "ca.pem"
    assert ok.jobs.run and ok.jobs.alerts_minutes == 1
    cases = [(make(enrol="relm = 'x'\n"), "enrol.relm", "did you mean 'realm'"),
             (make(extra="prot = 25\n"), "enrol.smtp.prot", "did you mean 'port'"),
             (make(extra="username = 'u'\n"), "enrol.smtp.password_file", "together"),
             (make(enrol="reminder_days = 400\n"), "enrol.reminder_days", "between"),
             (make(enrol="device_days = 10\nreminder_days = 10\n"), "enrol.reminder_days", "less than"),
             ('[web]\ndb = "sqlite:///x"\n[enrol]\nrealm = "r.example"\nca_file = "c"\n', "enrol.smtp", "required"),
             ('[web]\ndb = "sqlite:///x"\n[jobs]\nalert_minutes = 1\n', "jobs.alert_minutes", "alerts_minutes"),
             ('[web]\ndb = "sqlite:///x"\n[jobs]\nretention_days = 3\n', "jobs.activity_retention_days", "exceed"),
             ('[web]\ndb = "sqlite:///x"\n[jobz]\n', "jobz", "did you mean 'jobs'"),
             ('[web]\ndb = "sqlite:///x"\ntile_url = "javascript:alert(1)"\n', "web.tile_url", "http"),
             ('[web]\ndbb = "sqlite:///x"\n', "web.dbb", "did you mean 'db'")]
    for text, key, words in cases:
        with pytest.raises(ConfigError) as err:
            config.parse(text, base=tmp_path)
        assert err.value.key == key and words in str(err.value), (text, str(err.value))
    secret = tmp_path / "smtp-password"
    fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"smtp-secret\n")
    os.close(fd)
    good = config.parse(make(extra="username = 'u'\npassword_file = 'smtp-password'\n"), base=tmp_path)
    assert good.enrol is not None and good.enrol.smtp.password == "smtp-secret" and "smtp-secret" not in repr(good)
    (tmp_path / "open-password").write_text("x\n")
    os.chmod(tmp_path / "open-password", 0o644)
    with pytest.raises(ConfigError) as err:
        config.parse(make(extra="username = 'u'\npassword_file = 'open-password'\n"), base=tmp_path)
    assert "chmod 600" in str(err.value)


def test_web_serve_refuses_a_bad_ca_file_in_one_line(tmp_path: Path) -> None:
    import subprocess

    (tmp_path / "ca.pem").write_text("not a certificate\n")
    listen = free_port(socket.SOCK_STREAM)
    (tmp_path / "web.toml").write_text(f'[web]\ndb = "sqlite:///w.sqlite"\nlisten = "127.0.0.1:{listen}"\n'
                                       f'[enrol]\nrealm = "{REALM}"\nca_file = "ca.pem"\n'
                                       '[enrol.smtp]\nsender = "a <a@b.example>"\n')
    done = subprocess.run([sys.executable, "-m", "tsunagaru", "web", "serve", "--config", str(tmp_path / "web.toml")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "enrol.ca_file" in done.stderr and "Traceback" not in done.stderr
