"""Drive the IdP's sans-IO core without sockets: do what each action asks, synchronously."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tsunagaru.demo_state import DemoPorts, prepare
from tsunagaru.eap.credentials import answer_now
from tsunagaru.idp.config import load
from tsunagaru.idp.server import store_accounting
from tsunagaru.idp.service import CheckPassword, EapCredential, IdpCore, Reply, StoreAccounting, build_eap_handler
from tsunagaru.idp.store import SqlCredentialStore
from tsunagaru.radius import Packet
from tsunagaru.store import Store

WALL = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Driven:
    core: IdpCore
    credentials: SqlCredentialStore
    store: Store

    def answer(self, request: Packet, secret: bytes, now: float = 0.0) -> Packet | None:
        action = self.core.decide(request, secret, now, WALL)
        while isinstance(action, EapCredential):  # the server answers from the cache or in a worker
            action = self.core.resume(action, answer_now(self.credentials, action.query), now)
        if isinstance(action, Reply):
            return action.packet
        if isinstance(action, CheckPassword):
            verdict = self.credentials.check_password(action.user, action.password)
            return self.core.pap_result(action.request, action.secret, action.user, verdict)
        assert isinstance(action, StoreAccounting)
        store_accounting(self.store, action.row)
        return action.reply


def demo_core(tmp_path: Path, secret: bytes) -> Driven:
    """The demo's IdP, built from the idp.toml the demo writes (as `idp serve` would)."""
    state = prepare(tmp_path / "state", datetime.now(UTC), DemoPorts())
    cfg = load(state.path("idp.toml"))
    store = Store.open(cfg.db_url)
    creds = SqlCredentialStore(store)
    return Driven(IdpCore(cfg.settings, build_eap_handler(cfg.settings, creds, secret)), creds, store)
