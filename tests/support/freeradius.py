"""A private FreeRADIUS 3.2 for tests: raddb copied from /etc/freeradius/3.0 into a tmp folder.

Nothing under /etc is changed. ``make_raddb`` writes a minimal server (PAP from a users file, auth and
acct listeners on loopback); ``freeradius`` runs it in the foreground for a ``with`` block and stops it
by pid. ``radclient`` runs the FreeRADIUS client against any server.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.support.procs import missing, need, running, wait_log
from tests.support.radsec_peers import assemble_raddb

SYSTEM_RADDB = Path("/etc/freeradius/3.0")
FREERADIUS = "freeradius"

DEFAULT_USERS = 'alice\tCleartext-Password := "password"\n\tReply-Message := "Hello alice"\n'


def make_raddb(
    base: Path, *, auth_port: int, acct_port: int, secret: str = "testing123", users: str = DEFAULT_USERS,
) -> Path:
    """Build ``base/raddb`` (with ``log``, ``run`` beside it) and check it with ``freeradius -C``."""
    need(FREERADIUS)
    if not (SYSTEM_RADDB / "radiusd.conf").exists():

        missing(f"{SYSTEM_RADDB} is not a FreeRADIUS raddb")
    return assemble_raddb(
        base,
        certs=(),
        clients=(f"client local {{\n\tipaddr = 127.0.0.1\n\tsecret = {secret}\n"
                 "\trequire_message_authenticator = no\n}\n"),
        modules=("always", "files", "pap", "expr"),
        site=_site(auth_port, acct_port),
        users=users,
    )


@contextlib.contextmanager
def freeradius(raddb: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run FreeRADIUS (``-X``: foreground, one thread, debug log) until the block ends."""
    with running([FREERADIUS, "-X", "-d", str(raddb)], log) as proc:
        wait_log(log, "Ready to process requests", timeout=30, proc=proc)
        yield proc


def radclient(
    server: str, command: str, secret: str, pairs: str, *, timeout: float = 2.0, retries: int = 2,
) -> subprocess.CompletedProcess[str]:
    """``echo PAIRS | radclient -x SERVER COMMAND SECRET``: output and exit code for assertions."""
    need("radclient")
    argv = ["radclient", "-x", "-t", str(timeout), "-r", str(retries), server, command, secret]
    return subprocess.run(argv, input=pairs, capture_output=True, text=True,
                          timeout=timeout * (retries + 1) + 10)


def _site(auth_port: int, acct_port: int) -> str:
    return f"""server default {{
	listen {{
		type = auth
		ipaddr = 127.0.0.1
		port = {auth_port}
	}}
	listen {{
		type = acct
		ipaddr = 127.0.0.1
		port = {acct_port}
	}}
	authorize {{
		Autz-Type Status-Server {{
			update reply {{
				Message-Authenticator := 0x00
			}}
			ok
		}}
		files
		pap
	}}
	authenticate {{
		Auth-Type PAP {{
			pap
		}}
	}}
	preacct {{
	}}
	accounting {{
		ok
	}}
	# FreeRADIUS before 3.2.5 signs replies only when asked; BlastRADIUS wants it on every one.
	post-auth {{
		update reply {{
			Message-Authenticator := 0x00
		}}
		Post-Auth-Type REJECT {{
			update reply {{
				Message-Authenticator := 0x00
			}}
		}}
	}}
}}
"""
