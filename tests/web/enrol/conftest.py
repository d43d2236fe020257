"""A portal on a real store with a real SMTP server (aiosmtpd writing to an outbox), as the demo runs it."""

from __future__ import annotations

import email
import email.policy
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.support.store_backends import backend_url
from tsunagaru.idp.user_ca import UserCA
from tsunagaru.pki import issue_server_certificate, make_eap_ca, write_cert_and_key
from tsunagaru.store import Store
from tsunagaru.web.enrol.mail import OutboxSink, SmtpSettings
from tsunagaru.web.enrol.router import Portal, api, install, pages
from tsunagaru.web.enrol.setup import portal_from_state
from tsunagaru.web.security import SecurityMiddleware

REALM = "idp.tsunagaru.test"
SECRET = b"k" * 32


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class PortalEnv:
    state: Path
    store: Store
    sink: OutboxSink
    portal: Portal
    app: FastAPI
    clock: Clock

    def code_for(self, address: str) -> str:
        """The code in the newest mail to ``address`` (read from the SMTP sink's outbox)."""
        for path in reversed(self.sink.messages()):
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if str(msg["To"]).lower() == address.lower():
                body = msg.get_body(("plain",))
                assert body is not None
                found = re.search(r"\b(\d{6})\b", body.get_content())
                assert found, body.get_content()
                return found.group(1)
        raise AssertionError(f"no mail to {address}")

    def mails_to(self, address: str) -> list[email.message.EmailMessage]:
        out = []
        for path in self.sink.messages():
            msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if str(msg["To"]).lower() == address.lower():
                out.append(msg)
        return out


def make_state(root: Path, now: datetime) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    ca = make_eap_ca("Portal Test IdP", now)
    write_cert_and_key(ca, root / "ca.pem", root / "ca.key")
    write_cert_and_key(issue_server_certificate(ca, REALM, now), root / "eap-server.pem", root / "eap-server.key")
    UserCA.create(now=now).save(root)
    return root


def make_app(portal: Portal) -> FastAPI:
    app = FastAPI()
    app.include_router(pages)
    app.include_router(api)
    install(app, portal)
    app.add_middleware(SecurityMiddleware, max_body=1 << 20, https=False)
    return app


@pytest.fixture
def penv(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PortalEnv]:
    clock = Clock()
    state = make_state(tmp_path / "state", clock.now)
    with backend_url(request, state / "idp.sqlite") as url:  # TSUNAGARU_TEST_DB=postgresql: a real PostgreSQL
        store = Store.open(url)
        sink = OutboxSink(state / "outbox").start()
        portal = portal_from_state(state, store, realm=REALM, secret=SECRET, smtp=SmtpSettings(port=sink.port))
        portal.now = clock
        try:
            yield PortalEnv(state, store, sink, portal, make_app(portal), clock)
        finally:
            sink.stop()
            store.dispose()


@pytest.fixture
def client(penv: PortalEnv) -> Iterator[TestClient]:
    with TestClient(penv.app, base_url="http://127.0.0.1:8080") as c:
        yield c


class Served:
    """The app behind a real uvicorn listener on a free loopback port (Chromium, Windows-style fetches)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = 0  # the kernel's choice, read once uvicorn listens: no probed port to lose to another
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start listening")
            time.sleep(0.02)
        self.port = int(self.server.servers[0].sockets[0].getsockname()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        deadline = time.monotonic() + 10
        self.thread.join(max(0.0, deadline - time.monotonic()))


def api_signup(client: TestClient, penv: PortalEnv, address: str, lang: str = "en") -> str:
    r = client.post("/api/v1/enrol/start", json={"email": address, "lang": lang})
    assert r.status_code == 202, r.text
    r = client.post("/api/v1/enrol/verify", json={"email": address, "code": penv.code_for(address)})
    assert r.status_code == 200, r.text
    token: str = r.json()["token"]
    return token
