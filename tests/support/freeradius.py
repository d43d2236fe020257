"""A private FreeRADIUS 3.2 for tests: raddb copied from /etc/freeradius/3.0 into a tmp folder.

Nothing under /etc is changed. ``make_raddb`` writes a minimal server (PAP from a users file, auth and
acct listeners on loopback); ``freeradius`` runs it in the foreground for a ``with`` block and stops it
by pid. ``radclient`` runs the FreeRADIUS client against any server.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from tests.support.procs import need, running, wait_log
from tests.support.radsec_peers import _radiusd_conf

SYSTEM_RADDB = Path("/etc/freeradius/3.0")
FREERADIUS = "freeradius"

DEFAULT_USERS = 'alice\tCleartext-Password := "password"\n\tReply-Message := "Hello alice"\n'


def make_raddb(
    base: Path, *, auth_port: int, acct_port: int, secret: str = "testing123", users: str = DEFAULT_USERS,
) -> Path:
    """Build ``base/raddb`` (with ``log``, ``run`` beside it) and check it with ``freeradius -C``."""
    need(FREERADIUS)
    if not (SYSTEM_RADDB / "radiusd.conf").exists():
        import pytest

        pytest.skip(f"{SYSTEM_RADDB} is not a FreeRADIUS raddb")
    raddb = base / "raddb"
    for sub in ("log", "run", "var"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    shutil.copytree(SYSTEM_RADDB, raddb, symlinks=True)
    (raddb / "radiusd.conf").write_text(_radiusd_conf(raddb, base / "run"))
    (raddb / "clients.conf").write_text(
        f"client local {{\n\tipaddr = 127.0.0.1\n\tsecret = {secret}\n"
        "\trequire_message_authenticator = no\n}\n")
    for link in (raddb / "mods-enabled").iterdir():
        link.unlink()
    for mod in ("always", "files", "pap", "expr"):
        (raddb / "mods-enabled" / mod).symlink_to(f"../mods-available/{mod}")
    (raddb / "mods-config" / "files" / "authorize").write_text(users)
    for site in (raddb / "sites-enabled").iterdir():
        site.unlink()
    (raddb / "sites-enabled" / "default").write_text(_site(auth_port, acct_port))
    check = subprocess.run([FREERADIUS, "-C", "-d", str(raddb)], capture_output=True, text=True, timeout=60)
    if check.returncode != 0:
        raise RuntimeError(f"freeradius -C failed:\n{check.stdout[-3000:]}{check.stderr[-2000:]}")
    return raddb


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
