"""`tsunagaru idp serve`: configuration errors name the key; the process starts, logs, and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.idp_process import SERVE, demo, write_config
from tests.support.procs import free_port, wait_log
from tsunagaru.eap import EapType
from tsunagaru.idp.config import ConfigError, load, parse

MINIMAL = """
[idp]
realms = ["idp.example"]
db = "sqlite:///idp.sqlite"
eap_certificate = "eap.pem"
eap_key = "eap.key"
user_ca = "user-ca.pem"
cui_key_file = "cui.key"
[udp]
listen = "127.0.0.1:1812"
secret = "s3cret"
"""


def test_minimal_config_defaults_and_relative_paths() -> None:
    cfg = parse(MINIMAL, base=Path("/etc/idp"))
    assert cfg.settings.eap_certificate == Path("/etc/idp/eap.pem")
    assert cfg.settings.methods == (EapType.TTLS, EapType.PEAP, EapType.TLS)
    assert cfg.udp is not None and cfg.udp.port == 1812 and cfg.udp.secret == b"s3cret"
    assert cfg.radsec is None and cfg.realms == ("idp.example",)
    assert cfg.cache_ttl.total_seconds() == 30


def test_full_config() -> None:
    text = MINIMAL.replace('cui_key_file = "cui.key"', """cui_key_file = "cui.key"
wbaid = "EXAMPLE:JP"
session_timeout = 3600
methods = ["tls", "ttls"]
fragment_size = 400
tls13_tunnels = true
eap_tls13 = false
cache_ttl = 2""") + """
[radsec]
listen = "[::1]:2083"
certificate = "/x/radsec.pem"
key = "radsec.key"
roots = ["r1.pem", "r2.pem"]
crls = ["c.crl"]
"""
    cfg = parse(text, base=Path("/b"))
    s = cfg.settings
    assert (s.wbaid, s.session_timeout, s.methods, s.fragment_size, s.tls13_tunnels) == (
        "EXAMPLE:JP", 3600, (EapType.TLS, EapType.TTLS), 400, True)
    assert s.eap_tls13 is False and cfg.cache_ttl.total_seconds() == 2
    assert cfg.radsec is not None and (cfg.radsec.host, cfg.radsec.port) == ("::1", 2083)
    assert cfg.radsec.certificate == Path("/x/radsec.pem")
    assert cfg.radsec.roots == (Path("/b/r1.pem"), Path("/b/r2.pem"))
    assert cfg.radsec.crls == (Path("/b/c.crl"),)


@pytest.mark.parametrize(("change", "key"), [
    (("[idp]", "[idpp]"), "idpp"),
    (('realms = ["idp.example"]', "realms = []"), "idp.realms"),
    (('realms = ["idp.example"]', 'realms = ["alice@idp.example"]'), "idp.realms[0]"),
    (('db = "sqlite:///idp.sqlite"', ""), "idp.db"),
    (('eap_key = "eap.key"', "eap_key = 3"), "idp.eap_key"),
    (('user_ca = "user-ca.pem"', ""), "idp.user_ca"),
    (('cui_key_file = "cui.key"', 'cui_key_file = "cui.key"\nwbaid = "lower:jp"'), "idp.wbaid"),
    (('cui_key_file = "cui.key"', 'cui_key_file = "cui.key"\nmethods = ["tls", "leap"]'), "idp.methods[1]"),
    (('cui_key_file = "cui.key"', 'cui_key_file = "cui.key"\nfragment_size = 10'), "idp.fragment_size"),
    (('cui_key_file = "cui.key"', 'cui_key_file = "cui.key"\nfragment_size = 3801'), "idp.fragment_size"),
    (('cui_key_file = "cui.key"', 'cui_key_file = "cui.key"\ncache_ttl = 600'), "idp.cache_ttl"),
    (('cui_key_file = "cui.key"', 'cui_key_file = "cui.key"\ntls13_tunnels = "yes"'), "idp.tls13_tunnels"),
    (('cui_key_file = "cui.key"', 'cui_key_file = "cui.key"\nsecret = "x"'), "idp.secret"),
    (('listen = "127.0.0.1:1812"', 'listen = "127.0.0.1:99999"'), "udp.listen"),
    (('secret = "s3cret"', 'secret = "s3cret"\nallowed = "nowhere"'), "udp.allowed"),
    (('secret = "s3cret"', ""), "udp.secret"),
    (("[udp]", "[radsec]"), "radsec.secret"),
    (("[udp]\nlisten", "[radsec]\ncertificate = 'c'\nkey = 'k'\nlisten"), "radsec.secret"),
])
def test_config_errors_name_the_key(change: tuple[str, str], key: str) -> None:
    text = MINIMAL.replace(*change)
    assert text != MINIMAL
    with pytest.raises(ConfigError) as err:
        parse(text)
    assert err.value.key == key, str(err.value)


def test_no_listener_and_missing_roots() -> None:
    with pytest.raises(ConfigError, match="no listener"):
        parse(MINIMAL.split("[udp]")[0])
    radsec = MINIMAL.split("[udp]")[0] + '[radsec]\nlisten = "127.0.0.1:2083"\ncertificate = "c"\nkey = "k"\n'
    with pytest.raises(ConfigError) as err:
        parse(radsec)
    assert err.value.key == "radsec.roots"


def test_load_reads_the_cui_key(tmp_path: Path) -> None:
    (tmp_path / "idp.toml").write_text(MINIMAL)
    with pytest.raises(ConfigError) as err:
        load(tmp_path / "idp.toml")
    assert err.value.key == "idp.cui_key_file"
    (tmp_path / "cui.key").write_bytes(b"k" * 8)
    with pytest.raises(ConfigError, match="at least 16"):
        load(tmp_path / "idp.toml")
    (tmp_path / "cui.key").write_bytes(b"k" * 32)
    assert load(tmp_path / "idp.toml").settings.cui_key == b"k" * 32
    with pytest.raises(ConfigError, match="cannot read"):
        load(tmp_path / "absent.toml")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_serve_starts_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    state = demo(tmp_path / "state")
    config = write_config(state, tmp_path / "idp.toml", udp_port=free_port(socket.SOCK_DGRAM),
                          radsec_port=free_port(socket.SOCK_STREAM))
    log = tmp_path / "idp.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*SERVE, str(config)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_log(log, "idp listening", timeout=30, proc=proc)
        os.kill(proc.pid, sig)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "idp stopped" in log.read_text()
    assert "Traceback" not in log.read_text()


def test_serve_refuses_a_bad_config_and_a_busy_port(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text(MINIMAL.replace("realms = [\"idp.example\"]", "realms = 5"))
    bad = subprocess.run([*SERVE, str(tmp_path / "bad.toml")], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "idp.realms" in bad.stderr
    state = demo(tmp_path / "state")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        config = write_config(state, tmp_path / "idp.toml", udp_port=busy.getsockname()[1], radsec_port=None)
        done = subprocess.run([*SERVE, str(config)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    check = subprocess.run([sys.executable, "-m", "tsunagaru", "idp", "check-config", str(config)],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and "udp 127.0.0.1" in check.stdout


def test_the_largest_fragment_size_fits_a_radius_packet() -> None:
    """An Access-Challenge carrying MAX_FRAGMENT octets of TLS data (with the TLS length field), the
    longest node State and a Message-Authenticator encodes within RADIUS's 4096 octets."""
    from tsunagaru.idp.config import MAX_FRAGMENT
    from tsunagaru.radius import Code, Packet, with_eap_message
    from tsunagaru.radius.auth import length_of, sign_reply
    from tsunagaru.radius.node_state import MAX_NODE_ID, make_state
    from tsunagaru.radius.packet import MAX_PACKET_LEN, STATE

    eap = bytes(10) + bytes(MAX_FRAGMENT)  # code, id, length, type, flags, TLS message length
    challenge = with_eap_message(Packet(Code.ACCESS_CHALLENGE, 7, bytes(16),
                                        ((STATE, make_state("n" * MAX_NODE_ID)),)), eap)
    signed = sign_reply(challenge, bytes(16), b"s3cret")
    assert length_of(signed) <= MAX_PACKET_LEN
