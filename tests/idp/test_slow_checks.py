"""A password hash never holds up the IdP: it runs in a worker thread with the core's lock released."""

from __future__ import annotations

import asyncio
import inspect
import threading
from pathlib import Path

import pytest

import tsunagaru.idp.store as store_module
from tests.idp.driver import Driven
from tests.idp.test_realms import SECRET, core, pap
from tsunagaru.idp.checks import CheckPool
from tsunagaru.idp.server import IdpServer
from tsunagaru.radius import Code, Packet, sign_request
from tsunagaru.radius.reasons import parse_reject_reason


def _server(idp: Driven, workers: int = 4, queue: int = 256) -> IdpServer:
    return IdpServer(idp.core, idp.credentials, idp.store, checks=CheckPool("checks", workers=workers, queue=queue))


def _blocking_hash(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    hashing, release = threading.Event(), threading.Event()
    real = store_module.verify_password

    def slow(password: bytes | str, stored: str) -> bool:
        hashing.set()
        assert release.wait(30), "the test never released the hash"
        return real(password, stored)

    monkeypatch.setattr(store_module, "verify_password", slow)
    return hashing, release


def test_requests_are_answered_while_a_password_is_being_hashed(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    idp = core(tmp_path)
    hashing, release = _blocking_hash(monkeypatch)
    login = pap("alice@idp.tsunagaru.test", b"alice-password")
    status = sign_request(Packet(Code.STATUS_SERVER, 9), SECRET)

    async def main() -> tuple[object, object]:
        server = _server(idp)
        pending = server.answer(login, SECRET)
        assert inspect.isawaitable(pending)  # the hash runs in a worker
        while not hashing.is_set():
            await asyncio.sleep(0.01)
        # The hash is running in a worker thread: the loop and the core answer other requests meanwhile.
        alive = server.answer(status, SECRET)
        release.set()
        accepted = await pending
        await server.close(drain=1.0)
        return alive, accepted

    try:
        alive, accepted = asyncio.run(main())
    finally:
        release.set()
    assert isinstance(alive, Packet) and alive.code == Code.ACCESS_ACCEPT
    assert isinstance(accepted, Packet) and accepted.code == Code.ACCESS_ACCEPT


def test_a_full_check_queue_answers_reject_21_and_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review 22: password checks queued without limit. One worker, one queued job: the third login while
    the first hashes is answered at once with Reject-Reason 21 and counted; none waits unbounded."""
    idp = core(tmp_path)
    hashing, release = _blocking_hash(monkeypatch)

    async def main() -> tuple[list[object], float, float]:
        server = _server(idp, workers=1, queue=1)
        first = server.answer(pap("alice@idp.tsunagaru.test", b"alice-password"), SECRET)
        while not hashing.is_set():
            await asyncio.sleep(0.01)
        second = server.answer(pap("alice@idp.tsunagaru.test", b"other-1"), SECRET)
        third = server.answer(pap("alice@idp.tsunagaru.test", b"other-2"), SECRET)
        depth = server.metrics.registry.get_sample_value("tsunagaru_idp_check_queue_depth", {"queue": "checks"})
        release.set()
        results = [await first, await second, third]  # type: ignore[misc]
        overflow = server.metrics.registry.get_sample_value("tsunagaru_idp_check_overflow_total",
                                                            {"queue": "checks"})
        await server.close(drain=1.0)
        return results, depth or 0.0, overflow or 0.0

    try:
        (first, second, third), depth, overflow = asyncio.run(main())
    finally:
        release.set()
    assert isinstance(first, Packet) and first.code == Code.ACCESS_ACCEPT
    assert isinstance(second, Packet) and second.code == Code.ACCESS_REJECT
    assert parse_reject_reason(second.get(18) or b"") == 10
    assert isinstance(third, Packet) and third.code == Code.ACCESS_REJECT  # answered at once, not awaited
    assert parse_reject_reason(third.get(18) or b"") == 21
    assert depth == 1.0 and overflow == 1.0
