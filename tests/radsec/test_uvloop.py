"""The RadSec client, pool and server on uvloop (what ``anp run`` and ``serve`` use where it is installed).

uvloop differs from asyncio where the listener relies on it: it resumes reading after ``connection_made``
(the ClientHello reaches the plain protocol before ``start_tls``) and its transports are no
``asyncio.Transport`` subclasses. The loopback tests that need only the PKI run here again on uvloop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import uvloop

from tests.radsec import test_loopback
from tests.support.radsec_certs import PkiPaths
from tsunagaru.net.eventloop import loop_factory

# (not test_more_than_256_in_flight_use_several_connections: how many connections 700 requests need depends
# on how fast replies free identifiers, i.e. on the box's load, and it runs on asyncio's loop already)
ON_PKI_ONLY = ["test_access_request_is_answered", "test_request_timeout_without_reply",
               "test_tls12_peer_without_alpn_is_served",
               "test_client_without_certificate_is_refused", "test_verify_peer_hook_refuses",
               "test_server_closes_on_malformed_frame", "test_idle_timeouts_close_connections"]


@pytest.fixture
def on_uvloop() -> Iterator[None]:
    old = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(old)


@pytest.mark.parametrize("name", ON_PKI_ONLY)
def test_loopback_on_uvloop(name: str, radsec_pki: PkiPaths, on_uvloop: None) -> None:
    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert asyncio.run(which()).startswith("uvloop")
    getattr(test_loopback, name)(radsec_pki)


def test_the_loop_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TSUNAGARU_EVENT_LOOP", raising=False)
    assert loop_factory()[0] == "uvloop"
    assert loop_factory("asyncio")[0] == "asyncio"
    monkeypatch.setenv("TSUNAGARU_EVENT_LOOP", "asyncio")
    assert loop_factory()[0] == "asyncio"
    with pytest.raises(ValueError, match="TSUNAGARU_EVENT_LOOP"):
        loop_factory("tokio")
