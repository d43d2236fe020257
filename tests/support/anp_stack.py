"""Run the ANP proxy and our IdP as separate processes from private folders, for interop tests.

The ANP runs exactly as an operator runs it (``.venv/bin/tsunagaru anp run --config FILE``); the IdP
runs in its own Python process (``python -m tests.support.anp_stack idp ...``) so a test can kill it by
pid mid-run. Both use one demo state folder (:func:`tsunagaru.demo_state.prepare`): the two-root
federation PKI, the ANP and IdP member certificates, the EAP CA and the user alice.

    state = make_state(tmp_path / "state")
    with run_idp(state, tmp_path / "idp") as idp, run_anp(tmp_path / "anp", anp_toml(state, ...)) as anp:
        reply, seconds = exchange(anp.auth, pap_request("alice@idp.tsunagaru.test", "alice-password"))
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import os
import signal
import socket
import sqlite3
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.support.procs import free_port, running, wait_tcp, wait_udp
from tsunagaru.demo_state import NAS_SECRET, DemoPorts, DemoState, prepare
from tsunagaru.radius import Code, Packet, sign_request, verify_reply
from tsunagaru.radius.hiding import hide_user_password
from tsunagaru.radius.packet import MESSAGE_AUTHENTICATOR, USER_NAME, USER_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
TSUNAGARU = ROOT / ".venv" / "bin" / "tsunagaru"
SECRET = NAS_SECRET.encode()
ACCT_STATUS_TYPE, ACCT_DELAY_TIME, ACCT_SESSION_ID, NAS_IDENTIFIER = 40, 41, 44, 32


def make_state(folder: Path) -> DemoState:
    """The demo state (PKI, EAP CA, alice); ports in its own anp.toml are unused by these helpers."""
    return prepare(folder, datetime.datetime.now(datetime.UTC), DemoPorts())


@dataclass(frozen=True)
class AnpPorts:
    auth: int
    acct: int
    metrics: int


def anp_ports() -> AnpPorts:
    return AnpPorts(free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM))


def anp_toml(
    state: DemoState,
    ports: AnpPorts,
    *,
    spool: Path,
    routes: Sequence[tuple[str, Sequence[str]]] = (),
    nameserver: int | None = None,
    request_timeout: float = 4.0,
    client_options: str = "",
) -> str:
    """An ANP configuration: static ``routes`` (realm, ["host:port/name", ...]) and/or DNS discovery
    against a nameserver on 127.0.0.1:``nameserver`` (discovery is off when it is None);
    ``client_options`` are extra TOML lines for the one [[clients]] table (rate, burst, ...)."""
    text = f"""[anp]
wbaid = "TSUNAGARU:JP"
listen_auth = "127.0.0.1:{ports.auth}"
listen_acct = "127.0.0.1:{ports.acct}"
metrics = "127.0.0.1:{ports.metrics}"
request_timeout = {request_timeout}
spool = "{spool}"

[tls]
certificate = "{state.path('anp.pem')}"
key = "{state.path('anp.key')}"
roots = ["{state.path('federation-roots.pem')}"]

[discovery]
enabled = {"true" if nameserver is not None else "false"}
"""
    if nameserver is not None:
        text += f'nameservers = ["127.0.0.1:{nameserver}"]\nnegative_ttl = 5\n'
    text += f'\n[[clients]]\nname = "loopback"\nnetwork = "127.0.0.0/8"\nsecret = "{NAS_SECRET}"\n{client_options}\n'
    for realm, peers in routes:
        text += f'\n[[routes]]\nrealm = "{realm}"\npeers = [{", ".join(repr(p) for p in peers)}]\n'
    return text.replace("'", '"')


@dataclass(frozen=True)
class AnpProcess:
    ports: AnpPorts
    pid: int
    log: Path

    @property
    def auth(self) -> int:
        return self.ports.auth

    @property
    def acct(self) -> int:
        return self.ports.acct

    def metrics(self) -> dict[str, float]:
        return scrape(self.ports.metrics)


@contextlib.contextmanager
def run_anp(folder: Path, toml_text: str, ports: AnpPorts, *, log_level: str = "info",
            start_timeout: float = 60.0) -> Iterator[AnpProcess]:
    """``tsunagaru anp run --config folder/anp.toml`` until the block ends (stopped by pid); ``start_timeout``
    bounds the wait for its ports (a loaded shared machine needs more than the default)."""
    folder.mkdir(parents=True, exist_ok=True)
    conf = folder / "anp.toml"
    conf.write_text(toml_text)
    log = folder / f"anp-{time.monotonic_ns()}.log"
    argv = [str(TSUNAGARU), "anp", "run", "--config", str(conf), "--log-level", log_level]
    with running(argv, log, cwd=folder) as proc:
        wait_udp(ports.acct, start_timeout, proc=proc)
        wait_tcp(ports.metrics, timeout=start_timeout, proc=proc)
        yield AnpProcess(ports, proc.pid, log)


@dataclass(frozen=True)
class IdpProcess:
    radsec: int
    udp: int
    pid: int
    log: Path


@contextlib.contextmanager
def run_idp(state: DemoState, folder: Path, radsec: int | None = None,
            start_timeout: float = 60.0) -> Iterator[IdpProcess]:
    """Our IdP (RadSec with the federation PKI + RADIUS/UDP) in its own process, stopped by pid."""
    folder.mkdir(parents=True, exist_ok=True)
    radsec = radsec or free_port(socket.SOCK_STREAM)
    udp = free_port(socket.SOCK_DGRAM)
    log = folder / f"idp-{radsec}-{time.monotonic_ns()}.log"
    argv = [sys.executable, "-m", "tests.support.anp_stack", "idp", str(state.root), str(radsec), str(udp)]
    with running(argv, log, cwd=ROOT) as proc:
        wait_tcp(radsec, timeout=start_timeout, proc=proc)
        yield IdpProcess(radsec, udp, proc.pid, log)


def kill(pid: int) -> None:
    """SIGKILL by pid (the ``running`` block still reaps it)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def accounting_rows(state: DemoState) -> tuple[int, int, int]:
    """(rows, distinct record keys, distinct sessions) in the IdP's idp_accounting table."""
    with contextlib.closing(sqlite3.connect(state.path("idp.sqlite"))) as db:
        total, keys, sessions = db.execute(
            "SELECT count(*), count(DISTINCT record_key), count(DISTINCT session_id) FROM idp_accounting"
        ).fetchone()
    return int(total), int(keys), int(sessions)


# -- a small RADIUS/UDP client ------------------------------------------------------------------------


def pap_request(user: str, password: str, identifier: int = 1, *, message_authenticator: bool = True,
                nas_identifier: bytes = b"interop-test") -> Packet:
    auth = os.urandom(16)
    attrs = ((USER_NAME, user.encode()), (USER_PASSWORD, hide_user_password(password.encode(), SECRET, auth)),
             (NAS_IDENTIFIER, nas_identifier))
    return sign_request(Packet(Code.ACCESS_REQUEST, identifier, auth, attrs), SECRET,
                        add_message_authenticator=message_authenticator)


def accounting_request(user: str, session: str, identifier: int = 1, *, status: int = 1, delay: int = 0) -> Packet:
    attrs = ((USER_NAME, user.encode()), (ACCT_SESSION_ID, session.encode()),
             (ACCT_STATUS_TYPE, status.to_bytes(4, "big")), (NAS_IDENTIFIER, b"interop-test"),
             (ACCT_DELAY_TIME, delay.to_bytes(4, "big")))
    return sign_request(Packet(Code.ACCOUNTING_REQUEST, identifier, attributes=attrs), SECRET,
                        add_message_authenticator=False)


def exchange(port: int, request: Packet, timeout: float = 5.0) -> tuple[Packet | None, float]:
    """Send once to 127.0.0.1:``port`` and wait for the reply (verified); returns (reply or None, seconds)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        started = time.monotonic()
        s.sendto(request.to_bytes(), ("127.0.0.1", port))
        try:
            while True:
                data = s.recv(4096)
                reply = Packet.from_bytes(data)
                if reply.identifier == request.identifier:
                    break
        except TimeoutError:
            return None, time.monotonic() - started
        elapsed = time.monotonic() - started
    verify_reply(reply, request.authenticator, SECRET,
                 require_message_authenticator=reply.has(MESSAGE_AUTHENTICATOR))
    return reply, elapsed


def scrape(port: int) -> dict[str, float]:
    """Prometheus text from 127.0.0.1:``port`` as {"name{labels}": value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


# -- the IdP process ------------------------------------------------------------------------------------


async def _serve_idp(root: Path, radsec: int, udp: int) -> None:
    """The IdP as `idp serve` assembles it, from the demo's idp.toml with these ports."""
    from tsunagaru.demo_state import idp_config
    from tsunagaru.idp import serve
    from tsunagaru.idp.config import load

    state = DemoState(root)
    ports = DemoPorts(idp_radsec=radsec, idp_udp=udp, idp_metrics=free_port(socket.SOCK_STREAM))
    config = state.path(f"idp-{radsec}.toml")
    config.write_text(idp_config(state, ports).replace('metrics = "127.0.0.1:', '# metrics = "'))
    running = await serve.start(serve.prepare(load(config)))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print(f"idp ready radsec={radsec} udp={udp}", flush=True)
    await stop.wait()
    await running.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anp_stack")
    parser.add_argument("role", choices=["idp"])
    parser.add_argument("state", type=Path)
    parser.add_argument("radsec", type=int)
    parser.add_argument("udp", type=int)
    args = parser.parse_args(argv)
    from tsunagaru import logs

    logs.setup("info")
    asyncio.run(_serve_idp(args.state, args.radsec, args.udp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
