"""The IdP core takes any signed request without raising: random attributes, broken EAP, PAP, accounting."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.idp.driver import Driven, demo_core
from tsunagaru.radius import Code, Packet, sign_request

SECRET = b"testing123"


@cache
def core() -> Driven:
    return demo_core(Path(tempfile.mkdtemp(prefix="idp-fuzz-")), SECRET)


attribute = st.one_of(
    st.tuples(st.integers(1, 255), st.binary(max_size=40)),
    st.tuples(st.just(1), st.sampled_from([b"alice@idp.tsunagaru.test", b"x@elsewhere.example", b"alice"])),
    st.tuples(st.just(79), st.binary(max_size=60)),  # EAP-Message
    st.tuples(st.just(2), st.binary(min_size=16, max_size=16)),  # User-Password
)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([Code.ACCESS_REQUEST, Code.ACCOUNTING_REQUEST, Code.STATUS_SERVER, Code.DISCONNECT_REQUEST]),
       st.lists(attribute, max_size=8), st.integers(0, 255))
def test_handle_never_raises(code: int, attrs: list[tuple[int, bytes]], ident: int) -> None:
    request = Packet.from_bytes(sign_request(Packet(code, ident, attributes=tuple(attrs)), SECRET).to_bytes())
    reply = core().answer(request, SECRET, 0.0)
    assert reply is None or isinstance(reply, Packet)
