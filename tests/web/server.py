"""A real web server for tests that need one over TCP (schemathesis, Chromium, the AP agent):
``tsunagaru web serve`` on a free loopback port over a seeded SQLite store, stopped by pid."""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import free_port, running, wait_tcp
from tests.web.conftest import OPERATOR_TOML, settings_for
from tests.web.seed import Seeded, seed
from tsunagaru.store import Store


@dataclass(frozen=True)
class WebServer:
    url: str
    seeded: Seeded
    log: Path
    db_url: str


@contextlib.contextmanager
def web_server(tmp: Path, extra: str = "login_attempts = 1000\n") -> Iterator[WebServer]:
    """``extra``: more lines of the [web] table."""
    settings = settings_for(tmp)
    store = Store.open(settings.db_url)
    with store.session() as db:
        seeded = seed(db)
    store.dispose()
    port = free_port(socket.SOCK_STREAM)
    conf = tmp / "web.toml"
    conf.write_text(f'[web]\nlisten = "127.0.0.1:{port}"\ndb = "{settings.db_url}"\n'
                    f'passpoint = "{OPERATOR_TOML}"\nsecrets_dir = "{tmp / "secrets"}"\n'
                    f'secret_key_file = "{tmp / "web-secret.key"}"\n{extra}')
    log = tmp / "web.log"
    argv = [sys.executable, "-m", "tsunagaru", "web", "serve", "--config", str(conf), "--log-level", "warning"]
    with running(argv, log) as proc:
        wait_tcp(port, proc=proc, timeout=30)
        yield WebServer(f"http://127.0.0.1:{port}", seeded, log, settings.db_url)
