"""`doctor realm` against the real stack (IdP + ANP on loopback) and against realms that fail."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path

from tests.support.procs import free_port
from tsunagaru.anp.config import load
from tsunagaru.anp.wiring import build_source
from tsunagaru.demo_state import DemoPorts, prepare
from tsunagaru.doctor.realm import DoctorSetup, diagnose
from tsunagaru.doctor.report import Report, Verdict
from tsunagaru.stack import start_stack


def run_doctor(tmp_path: Path, realm: str, *, start_idp: bool = True) -> Report:
    udp, tcp = (lambda: free_port(socket.SOCK_DGRAM)), (lambda: free_port(socket.SOCK_STREAM))
    ports = DemoPorts(auth=udp(), acct=udp(), idp_radsec=tcp(), idp_udp=udp(), anp_metrics=tcp(), idp_metrics=tcp())
    state = prepare(tmp_path / "state", datetime.now(UTC), ports)
    cfg = load(state.path("anp.toml"))
    setup = DoctorSetup(build_source(cfg), state.path("anp.pem"), state.path("anp.key"), cfg.tls.roots, cfg.tls.crls)

    async def main() -> Report:
        if not start_idp:
            return await diagnose(realm, setup)
        stack = await start_stack(state)
        try:
            return await diagnose(realm, setup)
        finally:
            await stack.close()

    return asyncio.run(main())


def test_demo_realm_passes_every_step(tmp_path: Path) -> None:
    report = run_doctor(tmp_path, "idp.tsunagaru.test")
    assert [s.name for s in report.steps] == ["DNS", "TCP", "TLS", "federation PKI", "Status-Server"]
    assert report.ok and report.exit_code() == 0, report.to_text()
    assert '"ok": true' in report.to_json()


def test_unknown_realm_fails_at_dns_and_skips_the_rest(tmp_path: Path) -> None:
    report = run_doctor(tmp_path, "nowhere.example", start_idp=False)
    assert report.steps[0].verdict is Verdict.FAIL and "no NAPTR" in report.steps[0].summary
    assert all(s.verdict is Verdict.SKIP for s in report.steps[1:]) and report.exit_code() == 1


def test_realm_whose_server_is_down_fails_at_tcp(tmp_path: Path) -> None:
    report = run_doctor(tmp_path, "idp.tsunagaru.test", start_idp=False)
    assert report.steps[0].verdict is Verdict.PASS
    assert report.steps[1].verdict is Verdict.FAIL and "cannot connect" in report.steps[1].summary


def test_nameserver_option_errors_are_one_line_and_ipv6_is_parsed(tmp_path: Path) -> None:
    """Review 55: ``--nameserver h:abc`` was a ValueError traceback; ``::1`` was read as host ``:`` port 1."""
    import subprocess
    import sys

    from tsunagaru.tomlconf import hostport

    assert (hostport("::1", "--nameserver", 53).host, hostport("::1", "--nameserver", 53).port) == ("::1", 53)
    assert hostport("[::1]:5353", "--nameserver", 53).port == 5353
    from tests.support.anp_stack import make_state

    state = make_state(tmp_path / "state")
    result = subprocess.run([sys.executable, "-m", "tsunagaru", "doctor", "realm", "x.example", "--config",
                             str(state.path("anp.toml")), "--nameserver", "h:abc"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--nameserver: 'h:abc': port is not a number" in result.stderr
