"""`tsunagaru demo`: start on loopback what exists so far, with no arguments, and say where it is.

For now that is a RADIUS responder built on our codec: authentication on 127.0.0.1:1812 and accounting
on :1813 (secret ``testing123``). It logs every decoded packet with identities redacted (User-Name
becomes ``@realm`` plus a short keyed hash; passwords and keys are never logged), answers
Status-Server, acknowledges Accounting-Request, and rejects Access-Request with a Reply-Message saying
that no identity provider is configured yet: it must not pretend that logins work.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

from tsunagaru.net import UdpRadiusServer
from tsunagaru.radius import Code, Packet, default_dictionary, encode
from tsunagaru.radius.attributes import Attr
from tsunagaru.radius.render import describe

log = logging.getLogger("tsunagaru.demo")

REJECT_MESSAGE = "no identity provider configured yet"
#: Attributes that identify a person or a device: shown only as a keyed hash.
IDENTITIES = frozenset({"Calling-Station-Id", "Chargeable-User-Identity", "EAP-Peer-Id", "Framed-IP-Address",
                        "Framed-IPv6-Prefix", "Class", "State"})
#: Attributes never shown at all (secrets, and EAP payloads that may carry identities).
NEVER = frozenset({"User-Password", "CHAP-Password", "Tunnel-Password", "MS-MPPE-Send-Key",
                   "MS-MPPE-Recv-Key", "MS-CHAP-Response", "MS-CHAP2-Response", "EAP-Message"})


class Redactor:
    """Replaces identities by short keyed hashes; the key lives in the state folder (stable per install)."""

    def __init__(self, key: bytes) -> None:
        self.key = key

    def tag(self, value: bytes) -> str:
        return hmac.new(self.key, value, hashlib.sha256).hexdigest()[:10]

    def user_name(self, name: str | bytes) -> str:
        raw = name.encode() if isinstance(name, str) else name
        realm = raw.rpartition(b"@")[2].decode("utf-8", "replace") if b"@" in raw else ""
        return f"@{realm}#{self.tag(raw)}" if realm else f"#{self.tag(raw)}"

    def __call__(self, attr: Attr) -> Any:
        if attr.name == "User-Name" and isinstance(attr.value, str | bytes):
            return self.user_name(attr.value)
        if attr.name in NEVER:
            return "<not shown>"
        if attr.name in IDENTITIES:
            return "#" + self.tag(str(attr.value).encode())
        return attr.value


def _load_key(state: Path) -> bytes:
    path = state / "redaction.key"
    if not path.exists():
        path.write_bytes(secrets.token_bytes(32))
        path.chmod(0o600)
    return path.read_bytes()


def make_handler(redactor: Redactor, log_path: Path, secret: bytes, *, accounting: bool = False) -> Any:
    d = default_dictionary()

    async def handle(request: Packet, addr: tuple[Any, ...]) -> Packet | None:
        shown = describe(request, d, secret=secret, redact=redactor)  # verdicts; values redacted
        shown.pop("authenticator", None)
        line = json.dumps({"from": f"{addr[0]}:{addr[1]}", **shown}, ensure_ascii=False)
        log.info("%s", line)
        with log_path.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
        if request.code == Code.STATUS_SERVER:  # RFC 5997 3: the answer depends on the port asked
            if accounting:
                return Packet(Code.ACCOUNTING_RESPONSE, request.identifier)
            return Packet(Code.ACCESS_ACCEPT, request.identifier, attributes=tuple(
                encode(d, "Reply-Message", "tsunagaru demo responder is alive")))
        if request.code == Code.ACCOUNTING_REQUEST:
            return Packet(Code.ACCOUNTING_RESPONSE, request.identifier)
        if request.code == Code.ACCESS_REQUEST:
            return Packet(Code.ACCESS_REJECT, request.identifier,
                          attributes=tuple(encode(d, "Reply-Message", REJECT_MESSAGE)))
        return None  # CoA/Disconnect are not ours to answer

    return handle


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("demo", help="run what exists so far on loopback (see README)")
    p.add_argument("--state", default="tsunagaru-demo", help="state folder (default ./tsunagaru-demo)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--auth-port", type=int, default=1812)
    p.add_argument("--acct-port", type=int, default=1813)
    p.add_argument("--secret", default="testing123")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        stream=sys.stdout)
    try:
        return asyncio.run(_main(args))
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


async def _main(args: argparse.Namespace) -> int:
    state = Path(args.state).resolve()
    state.mkdir(parents=True, exist_ok=True)
    redactor = Redactor(_load_key(state))
    log_path = state / "radius-packets.log"
    secret = args.secret.encode()
    servers = [
        UdpRadiusServer(make_handler(redactor, log_path, secret, accounting=acct), args.host, port,
                        secret=secret)
        for port, acct in ((args.auth_port, False), (args.acct_port, True))
    ]
    for server in servers:
        await server.start()
    _banner(args, state, log_path, servers)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"ready: RADIUS auth {args.host}:{servers[0].port}, acct {args.host}:{servers[1].port}",
          flush=True)
    await stop.wait()
    for server in servers:
        await server.close()
    print("stopped", flush=True)
    return 0


def _banner(args: argparse.Namespace, state: Path, log_path: Path, servers: list[UdpRadiusServer]) -> None:
    auth, acct = servers[0].port, servers[1].port
    lines = [
        "Tsunagaru demo (what exists so far: the RADIUS codec and a UDP responder)",
        f"  state folder:        {state}",
        f"  RADIUS auth:         {args.host}:{auth}  (secret {args.secret!r}, NAS {args.host})",
        f"  RADIUS accounting:   {args.host}:{acct}",
        f"  packet log:          {log_path}  (identities redacted: @realm#hash)",
        f"  Access-Request gets Access-Reject: {REJECT_MESSAGE!r}",
        "  try it:",
        f"    echo 'User-Name = \"alice@idp.tsunagaru.test\", User-Password = \"x\", "
        f"Message-Authenticator = 0x00' | radclient -x {args.host}:{auth} auth {args.secret}",
        f"    echo 'Message-Authenticator = 0x00' | radclient -x {args.host}:{auth} status {args.secret}",
        f"    tsunagaru radius decode HEX --secret {args.secret}",
        "  stop with Ctrl-C (SIGINT) or SIGTERM",
    ]
    print("\n".join(lines), flush=True)
    with contextlib.suppress(OSError):
        os.chmod(state, 0o700)
