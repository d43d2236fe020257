"""The IdP core decides and the adapter does (review 24, 27): no database, clock, hash or lock inside."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

import tsunagaru.idp.store as store_module
from tests.idp.driver import demo_core
from tests.idp.test_realms import SECRET, pap
from tsunagaru import logs
from tsunagaru.idp.service import CheckPassword, Reply, StoreAccounting
from tsunagaru.radius import Code, Packet, default_dictionary, encode, sign_request

WALL = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_decide_returns_actions_and_touches_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    idp = demo_core(tmp_path, SECRET)

    def no_io(*_a: object, **_k: object) -> object:
        raise AssertionError("the core must not hash or read the store")

    monkeypatch.setattr(store_module, "verify_password", no_io)
    monkeypatch.setattr(idp.store, "session", no_io)
    login = idp.core.decide(pap("alice@idp.tsunagaru.test", b"alice-password"), SECRET, 1.0, WALL)
    assert isinstance(login, CheckPassword) and login.user == "alice@idp.tsunagaru.test"
    assert login.password == b"alice-password"

    d = default_dictionary()
    acct = sign_request(Packet(Code.ACCOUNTING_REQUEST, 3, attributes=(
        *encode(d, "User-Name", "alice@idp.tsunagaru.test"), *encode(d, "Acct-Status-Type", 1),
        *encode(d, "Acct-Session-Id", "S-1"))), SECRET)
    stored = idp.core.decide(acct, SECRET, 1.0, WALL)
    assert isinstance(stored, StoreAccounting)
    assert stored.row.received_at == WALL  # the time passed in, not datetime.now
    assert stored.row.user_hash == logs.redact(b"alice@idp.tsunagaru.test")
    assert len(stored.row.user_hash.split("#")[1]) == 16
    assert stored.reply.code == Code.ACCOUNTING_RESPONSE

    status = idp.core.decide(sign_request(Packet(Code.STATUS_SERVER, 4), SECRET), SECRET, 1.0, WALL)
    assert isinstance(status, Reply) and status.packet is not None
    assert not any(isinstance(v, type(threading.Lock())) for v in vars(idp.core).values())


def test_the_adapter_stores_accounting_once(tmp_path: Path) -> None:
    from sqlalchemy import select

    from tsunagaru.store import IdpAccounting

    idp = demo_core(tmp_path, SECRET)
    d = default_dictionary()
    acct = sign_request(Packet(Code.ACCOUNTING_REQUEST, 3, attributes=(
        *encode(d, "User-Name", "alice@idp.tsunagaru.test"), *encode(d, "Acct-Status-Type", 1),
        *encode(d, "Acct-Session-Id", "S-1"))), SECRET)
    assert idp.answer(acct, SECRET) is not None
    assert idp.answer(acct, SECRET) is not None  # a retransmission: acknowledged again, stored once
    with idp.store.session() as s:
        rows = list(s.scalars(select(IdpAccounting)))
    assert len(rows) == 1 and "alice" not in (rows[0].user_hash or "")
