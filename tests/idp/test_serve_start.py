"""`idp check-config` does what `idp serve` does short of binding; start-up errors are one line and exit 2;
SIGTERM answers the requests in flight; the metrics endpoint of a running IdP stays bounded."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.idp_process import SERVE, demo, write_config
from tests.support.procs import free_port, wait_log, wait_tcp
from tsunagaru.demo_state import NAS_SECRET, PASSWORD, REALM, USER, DemoState
from tsunagaru.radius import Code, Packet, default_dictionary, encode, sign_request
from tsunagaru.radius.hiding import hide_user_password
from tsunagaru.radius.reasons import parse_reject_reason

CHECK = [sys.executable, "-m", "tsunagaru", "idp", "check-config"]
SECRET = NAS_SECRET.encode()
D = default_dictionary()


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> DemoState:
    return demo(tmp_path_factory.mktemp("idp-start") / "state")


def _config(state: DemoState, tmp_path: Path, **changes: str) -> Path:
    path = write_config(state, tmp_path / "idp.toml", udp_port=free_port(socket.SOCK_DGRAM), radsec_port=None)
    text = path.read_text()
    for old, new in changes.items():
        assert old in text
        text = text.replace(old, new)
    path.write_text(text)
    return path


def _one_line_exit_2(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    return done.stderr


def test_check_config_loads_the_eap_key(state: DemoState, tmp_path: Path) -> None:
    """Review 15: check-config said ok for a missing EAP key; every login then failed with 21."""
    missing = _config(state, tmp_path, **{str(state.path("eap-server.key")): str(tmp_path / "absent.key")})
    assert "absent.key" in _one_line_exit_2([*CHECK, str(missing)])
    assert "absent.key" in _one_line_exit_2([*SERVE, str(missing)])
    wrong = _config(state, tmp_path, **{str(state.path("eap-server.key")): str(state.path("alice.key"))})
    assert "EAP certificate" in _one_line_exit_2([*CHECK, str(wrong)])


def test_check_config_opens_the_database(state: DemoState, tmp_path: Path) -> None:
    """Review 14: a bad idp.db was a sqlalchemy traceback."""
    bad = _config(state, tmp_path, **{f'db = "{state.db_url}"': 'db = "not a url"'})
    assert "idp.db" in _one_line_exit_2([*CHECK, str(bad)])
    assert "idp.db" in _one_line_exit_2([*SERVE, str(bad)])
    unsupported = _config(state, tmp_path, **{f'db = "{state.db_url}"': 'db = "mysql://x/y"'})
    assert "unsupported" in _one_line_exit_2([*CHECK, str(unsupported)])


def test_a_non_utf8_file_is_one_line(state: DemoState, tmp_path: Path) -> None:
    """Review 13: a non-UTF-8 file was a traceback and exit 1."""
    path = _config(state, tmp_path)
    path.write_bytes(b"# caf\xe9 latin-1 comment\n" + path.read_bytes())
    assert "UTF-8" in _one_line_exit_2([*CHECK, str(path)])
    assert "UTF-8" in _one_line_exit_2([*SERVE, str(path)])


def test_check_config_ok_means_serve_starts(state: DemoState, tmp_path: Path) -> None:
    path = _config(state, tmp_path)
    done = subprocess.run([*CHECK, str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("ok:"), done.stderr


def _pap(ident: int, user: str, password: bytes) -> Packet:
    auth = os.urandom(16)
    p = Packet(Code.ACCESS_REQUEST, ident, auth, (*encode(D, "User-Name", user),
                                                  (2, hide_user_password(password, SECRET, auth))))
    return sign_request(p, SECRET)


def _receive(sock: socket.socket, count: int, timeout: float) -> dict[int, Packet]:
    got: dict[int, Packet] = {}
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(4096)
        except TimeoutError:
            break
        reply = Packet.from_bytes(data)
        got[reply.identifier] = reply
    return got


def test_sigterm_answers_the_requests_in_flight(state: DemoState, tmp_path: Path) -> None:
    """Deliver 3: SIGTERM with password checks in flight: each gets its reply, then exit 0 (review 6)."""
    udp = free_port(socket.SOCK_DGRAM)
    config = write_config(state, tmp_path / "idp.toml", udp_port=udp, radsec_port=None)
    log = tmp_path / "idp.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*SERVE, str(config)], stdout=out, stderr=subprocess.STDOUT)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        wait_log(log, "idp listening", timeout=30, proc=proc)
        sock.connect(("127.0.0.1", udp))
        count = 12  # distinct wrong passwords: each a real scrypt check (tens of ms), 4 workers: all fit in 5 s
        for ident in range(count):
            sock.send(_pap(ident, f"{USER}@{REALM}", f"wrong-{ident}".encode()).to_bytes())
        time.sleep(0.05)  # the first checks are running, most are queued
        os.kill(proc.pid, signal.SIGTERM)
        got = _receive(sock, count, timeout=10)
        assert proc.wait(15) == 0
    finally:
        sock.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert sorted(got) == list(range(count)), (sorted(got), text[-2000:])
    assert {parse_reject_reason(r.get(18) or b"") for r in got.values()} == {10}
    assert text.index("idp stopping") < text.index("idp stopped") and "Traceback" not in text


def _scrape(port: int) -> dict[str, float]:
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out: dict[str, float] = {}
    for line in body.splitlines():
        if line.startswith("tsunagaru_idp_") and " " in line:
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_a_running_idp_serves_bounded_metrics(state: DemoState, tmp_path: Path) -> None:
    """Deliver 10: requests, outcomes by method and Reject-Reason, queue depth, sessions, certificate
    expiry; hostile input (random realms, names, garbage) adds no series."""
    udp, metrics = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    config = write_config(state, tmp_path / "idp.toml", udp_port=udp, radsec_port=None, metrics_port=metrics)
    log = tmp_path / "idp.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*SERVE, str(config)], stdout=out, stderr=subprocess.STDOUT)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        wait_log(log, "idp listening", timeout=30, proc=proc)
        wait_tcp(metrics, proc=proc)
        sock.connect(("127.0.0.1", udp))
        sock.send(_pap(1, f"{USER}@{REALM}", PASSWORD.encode()).to_bytes())
        sock.send(_pap(2, f"{USER}@{REALM}", b"wrong").to_bytes())
        assert len(_receive(sock, 2, 10)) == 2
        first = _scrape(metrics)
        batches = []
        for batch in range(2):  # random realms and names, garbage; the second batch all new names
            for n in range(200):
                sock.send(_pap(n, f"u{batch}-{n}@realm-{batch}-{n}.example", b"x").to_bytes())
                sock.send(os.urandom(20 + n % 40))
                if n % 20 == 19:
                    _receive(sock, 20, 2)
            time.sleep(0.3)
            batches.append(_scrape(metrics))
        second = batches[-1]
    finally:
        sock.close()
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(15)
    assert first['tsunagaru_idp_outcomes_total{method="pap",outcome="accept",reason="0"}'] == 1
    assert first['tsunagaru_idp_outcomes_total{method="pap",outcome="reject",reason="10"}'] == 1
    assert first['tsunagaru_idp_replies_total{code="Access-Accept",reason="0"}'] == 1
    assert first['tsunagaru_idp_check_queue_depth{queue="checks"}'] == 0
    assert first["tsunagaru_idp_eap_sessions"] == 0
    assert first['tsunagaru_idp_certificate_expiry_seconds{certificate="eap"}'] > time.time()
    assert set(batches[1]) == set(batches[0]), set(batches[1]) ^ set(batches[0])  # saturated: no new series
    assert not any("realm-" in k or "u0-" in k for k in second)
    assert second['tsunagaru_idp_dropped_total{why="malformed"}'] >= 300
    assert second['tsunagaru_idp_replies_total{code="Access-Reject",reason="11"}'] >= 300


def test_sigterm_answers_radsec_requests_in_flight(state: DemoState, tmp_path: Path) -> None:
    """Deliver 3 over RadSec: password checks in flight on a federation peer's connection at SIGTERM are
    answered on that connection before it closes (review 6: they were cancelled at once)."""
    import ssl

    from tsunagaru.radsec import RADSEC_SECRET

    radsec, metrics = free_port(socket.SOCK_STREAM), free_port(socket.SOCK_STREAM)
    config = write_config(state, tmp_path / "idp.toml", udp_port=free_port(socket.SOCK_DGRAM), radsec_port=radsec,
                          metrics_port=metrics)
    log = tmp_path / "idp.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*SERVE, str(config)], stdout=out, stderr=subprocess.STDOUT)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(state.path("federation-roots.pem")))
    ctx.load_cert_chain(str(state.path("anp.pem")), str(state.path("anp.key")))
    count = 12
    got: dict[int, Packet] = {}
    try:
        wait_log(log, "idp listening", timeout=30, proc=proc)
        with socket.create_connection(("127.0.0.1", radsec), timeout=10) as raw, \
                ctx.wrap_socket(raw, server_hostname="idp.tsunagaru.test") as tls:
            for ident in range(count):
                auth = os.urandom(16)
                p = Packet(Code.ACCESS_REQUEST, ident, auth, (
                    *encode(D, "User-Name", f"{USER}@{REALM}"),
                    (2, hide_user_password(f"wrong-{ident}".encode(), RADSEC_SECRET, auth))))
                tls.sendall(sign_request(p, RADSEC_SECRET).to_bytes())
            # SIGTERM once the IdP has read all of them (on a loaded box that takes more than a moment):
            # requests it has not read yet are not in flight, they are still in the kernel's buffer
            deadline = time.monotonic() + 20
            while _scrape(metrics).get('tsunagaru_idp_requests_total{code="Access-Request"}', 0) < count:
                assert time.monotonic() < deadline, "the IdP did not read the requests within 20 s"
                time.sleep(0.01)
            waiting = _scrape(metrics).get('tsunagaru_idp_check_queue_depth{queue="checks"}', 0)
            os.kill(proc.pid, signal.SIGTERM)
            print(f"SIGTERM with {waiting:g} password checks waiting for a worker")
            data = b""
            while len(got) < count:
                chunk = tls.recv(65536)
                if not chunk:
                    break
                data += chunk
                while len(data) >= 4 and len(data) >= int.from_bytes(data[2:4], "big"):
                    size = int.from_bytes(data[2:4], "big")
                    reply = Packet.from_bytes(data[:size])
                    got[reply.identifier] = reply
                    data = data[size:]
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert sorted(got) == list(range(count)), (sorted(got), log.read_text()[-2000:])
    assert {parse_reject_reason(r.get(18) or b"") for r in got.values()} == {10}
