"""`tsunagaru demo` as a user runs it: ready line, radclient answers, redacted log, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.freeradius import radclient
from tests.support.procs import free_port, stop, wait_log


def test_demo_answers_radclient_and_redacts(tmp_path: Path) -> None:
    auth, acct = free_port(), free_port()
    state, out = tmp_path / "state", tmp_path / "demo.out"
    argv = [sys.executable, "-m", "tsunagaru", "demo", "--state", str(state),
            "--auth-port", str(auth), "--acct-port", str(acct)]
    with open(out, "wb") as f:
        proc = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT)
    try:
        wait_log(out, "\nready", timeout=20, proc=proc)
        req = radclient(f"127.0.0.1:{auth}", "auth", "testing123",
                        'User-Name = "alice@idp.tsunagaru.test", User-Password = "s3cr3t-pw", '
                        'Calling-Station-Id = "02-00-00-00-00-01", Message-Authenticator = 0x00\n')
        assert "Received Access-Reject" in req.stdout, req.stdout + req.stderr
        assert "no identity provider configured yet" in req.stdout
        after_reply = req.stdout.split("Received Access-Reject", 1)[1]
        assert after_reply.strip().splitlines()[1].strip().startswith("Message-Authenticator")
        status = radclient(f"127.0.0.1:{auth}", "status", "testing123", "Message-Authenticator = 0x00\n")
        assert "Received Access-Accept" in status.stdout, status.stdout + status.stderr
        acc = radclient(f"127.0.0.1:{acct}", "acct", "testing123",
                        'User-Name = "bob@example.org", Acct-Status-Type = Start, Acct-Session-Id = "x"\n')
        assert "Received Accounting-Response" in acc.stdout, acc.stdout + acc.stderr
        acct_status = radclient(f"127.0.0.1:{acct}", "status", "testing123", "Message-Authenticator = 0x00\n")
        assert "Received Accounting-Response" in acct_status.stdout, acct_status.stdout + acct_status.stderr
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (state / "radius-packets.log").read_text().count("\n") < 4:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        stop(proc)
    output = out.read_text()
    assert "radclient" in output and "stopped" in output
    logged = (state / "radius-packets.log").read_text() + "".join(
        line for line in output.splitlines(keepends=True) if '"from"' in line)
    for private in ("alice", "s3cr3t-pw", "bob", "02-00-00-00-00-01"):
        assert private not in logged, private
    assert "@idp.tsunagaru.test#" in logged and "@example.org#" in logged
    assert '"message_authenticator": "valid"' in logged
