"""A password hash never holds up the IdP: it runs in a worker thread with the core's lock released."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

import tsunagaru.idp.store as store_module
from tests.idp.test_realms import SECRET, core, pap
from tsunagaru.radius import Code, Packet, sign_request


def test_requests_are_answered_while_a_password_is_being_hashed(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    idp = core(tmp_path)
    hashing, release = threading.Event(), threading.Event()
    real = store_module.verify_password

    def slow(password: bytes | str, stored: str) -> bool:
        hashing.set()
        assert release.wait(30), "the test never released the hash"
        return real(password, stored)

    monkeypatch.setattr(store_module, "verify_password", slow)
    login = pap("alice@idp.tsunagaru.test", b"alice-password")
    assert idp.may_block(login)
    status = sign_request(Packet(Code.STATUS_SERVER, 9), SECRET)
    assert not idp.may_block(status)

    async def main() -> tuple[Packet | None, Packet | None]:
        pending = asyncio.ensure_future(idp.answer(login, SECRET))
        while not hashing.is_set():
            await asyncio.sleep(0.01)
        # The hash is running in a worker thread: the loop and the core answer other requests meanwhile.
        alive = await idp.answer(status, SECRET)
        release.set()
        return alive, await pending

    try:
        alive, accepted = asyncio.run(main())
    finally:
        release.set()
        idp.close()
    assert alive is not None and alive.code == Code.ACCESS_ACCEPT
    assert accepted is not None and accepted.code == Code.ACCESS_ACCEPT
