"""The web app inside ``tsunagaru demo``: demo accounts and AP tokens, then uvicorn on the demo's loop.

    handle = await start_web(state.root, state.db_url, registry, host="127.0.0.1", port=8080)
    ...
    await handle.close()

Accounts and tokens are made once and kept in ``DIR/web-users.txt`` (``ROLE USERNAME PASSWORD
[SCOPE]``) and ``DIR/ap-tokens.txt`` (``AP_ID TOKEN``), both 0600 from their first byte; a second
start reuses them. The operator of the demo APs' configs (``DIR/web-operator.toml``) sends RADIUS to
the demo ANP with the NAS secret the registry references (``STATE/secrets/nas-secret``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvicorn
from sqlalchemy import select

from tsunagaru.sites.scope import Principal, Role
from tsunagaru.store import Store
from tsunagaru.store.web_tables import WebUser
from tsunagaru.web import users
from tsunagaru.web.api.apconfig import issue_ap_token
from tsunagaru.web.app import create_app
from tsunagaru.web.config import WebSettings, read_or_make_key

log = logging.getLogger("tsunagaru.web.demo")

SEEDER = Principal("demo:seed", Role.CITY_ADMIN)
WEB_GRACE = 5  # seconds a request in flight at the stop may take before uvicorn cancels it
USERS_FILE, TOKENS_FILE, OPERATOR_FILE = "web-users.txt", "ap-tokens.txt", "web-operator.toml"

OPERATOR = """# The operator of the demo APs' configs (the [operator] table of a Passpoint description).
[operator]
wbaid = "TSUNAGARU:JP"
ssid = "OpenRoaming"
security = "wpa2"
rcois = ["5A03BA0000", "004096"]
domains = ["tsunagaru.test"]
interim_interval = 600
anqp_domain_id = 1

[operator.friendly_names]
eng = "Tsunagaru City Wi-Fi"
jpn = "つながるシティWi-Fi"

[[operator.realms]]
realms = ["idp.tsunagaru.test"]
methods = ["tls", "ttls-mschapv2", "ttls-pap", "peap-mschapv2"]

[operator.radius]
host = "{host}"
auth_port = {auth}
acct_port = {acct}
secret_ref = "anp"

[secrets]
anp = "{secret}"
"""


def write_private(path: Path, text: str) -> None:
    """``text`` into ``path``, mode 0600 from the first byte (created with that mode, then renamed)."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def demo_accounts(phone_operator_id: int) -> list[tuple[str, str, str | None, int | None]]:
    """(role, username, municipality code, organisation id) of the demo's web users."""
    return [("city-admin", "admin", None, None), ("municipality-operator", "shinjuku", "131041", None),
            ("site-operator", "booths", None, phone_operator_id), ("viewer", "viewer", None, None),
            ("auditor", "auditor", None, None)]


def ensure_users(store: Store, root: Path, phone_operator_id: int, now: datetime) -> None:
    path = root / USERS_FILE
    if path.exists():
        return
    lines = []
    with store.session() as db:
        for role, name, code, org in demo_accounts(phone_operator_id):
            password = secrets.token_urlsafe(12)
            existing = db.scalar(select(WebUser).where(WebUser.username == name))
            if existing is not None:
                db.delete(existing)  # the file was lost: start these accounts again with new passwords
                db.flush()
            users.create_user(db, SEEDER, users.NewUser(name, password, Role(role), code, org), now)
            scope = code or (str(org) if org is not None else "")
            lines.append(f"{role} {name} {password}{' ' + scope if scope else ''}")
    write_private(path, "\n".join(lines) + "\n")


def ensure_ap_tokens(store: Store, root: Path, ap_ids: tuple[int, ...], now: datetime) -> None:
    path = root / TOKENS_FILE
    known = {}
    if path.exists():
        for line in path.read_text().splitlines():
            words = line.split()
            if len(words) == 2 and words[0].isdigit():
                known[int(words[0])] = words[1]
    if all(ap in known for ap in ap_ids):
        return
    with store.session() as db:
        for ap in ap_ids:
            if ap not in known:
                known[ap] = issue_ap_token(db, ap, now)
    write_private(path, "".join(f"{ap} {token}\n" for ap, token in sorted(known.items())))


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: the demo owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass
class WebHandle:
    server: _Server
    task: asyncio.Task[None]
    store: Store
    url: str

    async def close(self) -> None:
        """Stop listening and close the idle keep-alive connections; requests in flight get ``WEB_GRACE``
        seconds (uvicorn's graceful timeout) and are then cancelled. The store is disposed in any case."""
        self.server.should_exit = True
        try:
            done, _ = await asyncio.wait({self.task}, timeout=WEB_GRACE + 3.0)
            if not done:  # uvicorn did not end on its own timeout: cut it short
                log.warning("web app still stopping %.0f s after it was asked to; cancelled", WEB_GRACE + 3.0)
                self.server.force_exit = True
                self.task.cancel()
            elif not self.task.cancelled() and self.task.exception() is not None:
                log.error("web app ended with an error", exc_info=self.task.exception())
        finally:
            self.store.dispose()


async def _serve(server: _Server) -> None:
    """``server.serve()``, its start-up failure (uvicorn logs why, then raises SystemExit) as an OSError:
    a SystemExit out of a task would leave the event loop at once, with a traceback and exit status 3."""
    try:
        await server.serve()
    except SystemExit as exc:
        raise OSError(f"the web app did not start (uvicorn exit {exc.code})") from None


async def start_web(root: Path, db_url: str, registry: Any, *, host: str = "127.0.0.1", port: int = 8080,
                    anp_host: str = "127.0.0.1", anp_auth: int = 1812, anp_acct: int = 1813) -> WebHandle:
    """Demo accounts, AP tokens and the operator file, then the web app listening on ``host:port``."""
    now = datetime.now(UTC)
    operator = root / OPERATOR_FILE
    from tsunagaru.sites.demo_seed import DEMO_NAS_SECRET

    write_private(operator, OPERATOR.format(host=anp_host, auth=anp_auth, acct=anp_acct, secret=DEMO_NAS_SECRET))
    settings = WebSettings(db_url=db_url, secret_key=read_or_make_key(root / "web-secret.key"),
                           public_url=f"http://{host}:{port}", passpoint=operator, secrets_dir=root / "secrets")
    store = Store.open(db_url)
    ensure_users(store, root, registry.phone_operator_id, now)
    ensure_ap_tokens(store, root, tuple(registry.ap_ids), now)
    app = create_app(settings, store)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, server_header=False,
                            lifespan="off", timeout_graceful_shutdown=WEB_GRACE,
                            proxy_headers=False)  # uvicorn's default believes X-Forwarded-For from 127.0.0.1
    server = _Server(config)
    task = asyncio.create_task(_serve(server))
    while not server.started:
        if task.done():
            store.dispose()
            with contextlib.suppress(BaseException):
                task.result()  # uvicorn logs the bind error and raises SystemExit
            raise OSError(f"the web app could not listen on {host}:{port}")
        await asyncio.sleep(0.05)
    return WebHandle(server, task, store, f"http://{host}:{port}/")
