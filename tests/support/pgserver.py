"""A private PostgreSQL server for the store tests (see shared recipe: initdb as `postgres` in a temp dir).

One server per test session, shared by every test folder that asks for it (reference-counted, stopped
when the last user lets go, also when tests fail). Each test gets a database of its own.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import free_port, missing


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[4]))
    return Path(found[-1]).parent if found else None


@dataclass
class PgServer:
    bindir: Path
    root: Path
    port: int
    as_postgres: bool
    migrated: bool = False

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://tsunagaru@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_postgres else []
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            log_file = self.root / "log"
            log = log_file.read_text(errors="replace")[-2000:] if log_file.exists() else ""
            raise RuntimeError(f"{argv[0]} failed: {done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        data = str(self.root / "data")
        self._run(str(self.bindir / "initdb"), "-D", data, "-A", "trust", "-U", "tsunagaru", "-E", "UTF8")
        # a server zone other than UTC, as a Tokyo server may have: nothing may depend on it (see store.engine)
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c timezone=Asia/Tokyo")
        log = str(self.root / "log")
        self._run(str(self.bindir / "pg_ctl"), "-D", data, "-l", log, "-w", "-o", options, "start")

    def stop(self) -> None:
        data = self.root / "data"
        if (data / "postmaster.pid").exists():
            self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")

    def _admin(self, sql: str) -> None:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user=tsunagaru dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql)

    def _template(self) -> str:
        """A database migrated to head once per session, copied by CREATE DATABASE ... TEMPLATE (a file copy:
        much cheaper than running every migration again for each test)."""
        if not self.migrated:
            from tsunagaru.store.migrate import upgrade

            self._admin("CREATE DATABASE t_migrated")
            upgrade(f"postgresql+psycopg://tsunagaru@127.0.0.1:{self.port}/t_migrated")
            self.migrated = True
        return "t_migrated"

    @contextlib.contextmanager
    def database(self, migrated: bool = False) -> Iterator[str]:
        """A fresh database for one test, empty or (``migrated``) at the newest migration; dropped afterwards
        (connections forced out)."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {self._template()}" if migrated else f"CREATE DATABASE {name}")
        try:
            yield f"postgresql+psycopg://tsunagaru@127.0.0.1:{self.port}/{name}"
        finally:
            self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


_shared: PgServer | None = None
_users = 0


def _skip_reason() -> str | None:
    if _bindir() is None:
        return "PostgreSQL server binaries not found under /usr/lib/postgresql (make test installs them)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "runuser is missing: the PostgreSQL server refuses to run as root"
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (it is in the test extra)"
    return None


@contextlib.contextmanager
def postgres_server() -> Iterator[PgServer]:
    """The session's shared server, started on first use and stopped when the last user is done."""
    global _shared, _users
    reason = _skip_reason()
    if reason:
        missing(reason)
    if _shared is None:
        bindir = _bindir()
        assert bindir is not None
        as_postgres = os.geteuid() == 0
        root = Path(tempfile.mkdtemp(prefix="tsunagaru-pg-"))
        if as_postgres:
            shutil.chown(root, user="postgres")
        server = PgServer(bindir, root, free_port(socket.SOCK_STREAM), as_postgres)
        try:
            server.start()
        except BaseException:
            _teardown(server)
            raise
        _shared = server
    _users += 1
    try:
        yield _shared
    finally:
        _users -= 1
        if _users == 0:
            server, _shared = _shared, None
            _teardown(server)


def _teardown(server: PgServer) -> None:
    try:
        server.stop()
    finally:
        shutil.rmtree(server.root, ignore_errors=True)
