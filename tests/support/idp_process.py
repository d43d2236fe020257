"""Run our IdP (`tsunagaru idp serve`) as a subprocess from a private folder, on ports chosen at run time.

The folder is a demo state (:func:`tsunagaru.demo_state.prepare`: federation PKI, EAP server
certificate, user CA, alice with password and certificate, CUI key); :func:`write_config` writes an
``idp.toml`` next to it and :func:`idp_process` starts the server, waits for "idp listening" and stops
it by pid.

    state = prepare(tmp / "state", now, DemoPorts())
    with idp_process(state, tmp / "idp", cache_ttl=1) as idp:
        ...  # RADIUS/UDP on 127.0.0.1:idp.udp_port (secret testing123), RadSec on idp.radsec_port
"""

from __future__ import annotations

import contextlib
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import free_port, running, wait_log
from tsunagaru.demo_state import IDP_WBAID, NAS_SECRET, REALM, DemoState

SERVE = [sys.executable, "-m", "tsunagaru", "idp", "serve", "--log-level", "debug", "--config"]


@dataclass(frozen=True)
class IdpRun:
    state: DemoState
    config: Path
    log: Path
    udp_port: int
    radsec_port: int
    pid: int
    db_url: str

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def write_config(
    state: DemoState,
    path: Path,
    *,
    udp_port: int,
    radsec_port: int | None,
    db_url: str | None = None,
    fragment_size: int = 1024,
    cache_ttl: float = 30,
    session_timeout: int = 3600,
) -> Path:
    """An ``idp.toml`` serving the demo realm from ``state``; RadSec only when ``radsec_port`` is given."""
    radsec = "" if radsec_port is None else f"""
[radsec]
listen = "127.0.0.1:{radsec_port}"
certificate = "{state.path('idp-radsec.pem')}"
key = "{state.path('idp-radsec.key')}"
roots = ["{state.path('federation-roots.pem')}"]
"""
    path.write_text(f"""[idp]
realms = ["{REALM}"]
db = "{db_url or state.db_url}"
eap_certificate = "{state.path('eap-server.pem')}"
eap_key = "{state.path('eap-server.key')}"
user_ca = "{state.path('user-ca.pem')}"
cui_key_file = "{state.path('cui.key')}"
wbaid = "{IDP_WBAID}"
session_timeout = {session_timeout}
methods = ["ttls", "peap", "tls"]
fragment_size = {fragment_size}
tls13_tunnels = true
cache_ttl = {cache_ttl}

[udp]
listen = "127.0.0.1:{udp_port}"
secret = "{NAS_SECRET}"
allowed = "127.0.0.0/8"
{radsec}""")
    return path


@contextlib.contextmanager
def idp_process(
    state: DemoState, folder: Path, *, radsec: bool = True, **options: object
) -> Iterator[IdpRun]:
    """Our IdP as a subprocess for the duration of the block (``options`` go to :func:`write_config`)."""
    folder.mkdir(parents=True, exist_ok=True)
    udp_port = free_port()
    radsec_port = free_port(socket.SOCK_STREAM) if radsec else 0
    config = write_config(state, folder / "idp.toml", udp_port=udp_port, radsec_port=radsec_port or None,
                          **options)  # type: ignore[arg-type]
    log = folder / "idp.log"
    db_url = str(options.get("db_url") or state.db_url)
    with running([*SERVE, str(config)], log) as proc:
        wait_log(log, "idp listening", timeout=30, proc=proc)
        yield IdpRun(state, config, log, udp_port, radsec_port, proc.pid, db_url)
