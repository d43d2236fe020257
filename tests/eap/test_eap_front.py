"""The sans-IO RADIUS handler: State, replays, caps, Accept/Reject contents, signatures."""

from __future__ import annotations

import os

import pytest

from tests.eap.eapol import Recorded
from tests.eap.helpers import mschapv2_response
from tests.eap.memstore import MemStore
from tsunagaru.eap.credentials import NtHashResult
from tsunagaru.eap.methods.base import MethodConfig
from tsunagaru.eap.packet import EapCode, EapPacket, EapType
from tsunagaru.eap.session import SessionConfig
from tsunagaru.idp.eap_front import EapRadiusHandler, FrontConfig
from tsunagaru.radius import (
    Code,
    Packet,
    Secrets,
    default_dictionary,
    eap_message,
    get_value,
    sign_request,
    verify_reply,
    with_eap_message,
)
from tsunagaru.radius.packet import REPLY_MESSAGE, STATE

SECRET = b"testing123"
ALICE = "alice@idp.tsunagaru.test"


def make(store: MemStore, **kw: int) -> Recorded:
    return Recorded(FrontConfig(SECRET, SessionConfig((26,), MethodConfig(store)), **kw))


def access_request(eap: EapPacket, state: bytes | None = None, ident: int = 1) -> Packet:
    pkt = Packet(Code.ACCESS_REQUEST, ident, os.urandom(16), ((1, ALICE.encode()),))
    if state is not None:
        pkt = pkt.add((STATE, state))
    return sign_request(with_eap_message(pkt, eap.to_bytes()), SECRET)


def reply_eap(reply: Packet | None) -> EapPacket:
    assert reply is not None
    raw = eap_message(reply)
    assert raw is not None
    return EapPacket.from_bytes(raw)


def identity() -> EapPacket:
    return EapPacket(EapCode.RESPONSE, 0, EapType.IDENTITY, ALICE.encode())


def mschapv2_via_radius(h: EapRadiusHandler, password: str) -> tuple[Packet, Packet | None]:
    """Run EAP-MSCHAPv2 through the handler; returns the last request and the final reply."""
    req = access_request(identity())
    reply = h.handle(req, 0.0)
    assert reply is not None and reply.code == Code.ACCESS_CHALLENGE
    verify_reply(reply, req.authenticator, SECRET, require_message_authenticator=True)
    assert h.handle(req, 0.5) == reply  # a retransmitted request gets the same answer
    state, challenge = reply.get(STATE), reply_eap(reply)
    answer = mschapv2_response(challenge.data, ALICE, password)
    resp = EapPacket(EapCode.RESPONSE, challenge.identifier, EapType.MSCHAPV2, answer)
    verdict_req = reply_eap(h.handle(access_request(resp, state, 2), 1.0))
    ack = EapPacket(EapCode.RESPONSE, verdict_req.identifier, EapType.MSCHAPV2, verdict_req.data[:1])
    last = access_request(ack, state, 3)
    return last, h.handle(last, 2.0)


def test_challenge_replay_and_accept(store: MemStore) -> None:
    h = make(store)
    last, accept = mschapv2_via_radius(h, "alice-password")
    assert accept is not None and accept.code == Code.ACCESS_ACCEPT
    assert reply_eap(accept).code == EapCode.SUCCESS
    recv = get_value(accept, default_dictionary(), "MS-MPPE-Recv-Key", Secrets(SECRET, last.authenticator))
    assert recv == h.outcomes[-1].msk[:32]
    assert not h.sessions


def test_wrong_password_rejected_with_reason(store: MemStore) -> None:
    h = make(store)
    _, reject = mschapv2_via_radius(h, "wrong")
    assert reject is not None and reject.code == Code.ACCESS_REJECT
    assert b"Reject-Reason=10" in (reject.get(REPLY_MESSAGE) or b"")
    assert reply_eap(reject).code == EapCode.FAILURE


def test_drops_and_rejects(store: MemStore) -> None:
    h = make(store)
    req = access_request(identity())
    assert h.handle(req, 0.0, secret=b"other") is None  # bad Message-Authenticator: drop
    unsigned = Packet(Code.ACCESS_REQUEST, 1, os.urandom(16), ((79, identity().to_bytes()),))
    assert h.handle(unsigned, 0.0) is None  # no Message-Authenticator (BlastRADIUS): drop
    assert h.handle(Packet(Code.ACCOUNTING_REQUEST, 1), 0.0) is None
    unknown = h.handle(access_request(identity(), b"no-such-state"), 0.0)
    assert unknown is not None and unknown.code == Code.ACCESS_REJECT
    not_eap = h.handle(
        sign_request(Packet(Code.ACCESS_REQUEST, 9, os.urandom(16), ((1, b"x"),)), SECRET), 0.0
    )
    assert not_eap is not None and b"Reject-Reason=30" in (not_eap.get(REPLY_MESSAGE) or b"")


def test_session_cap_and_expiry(store: MemStore) -> None:
    h = make(store, max_sessions=3)
    for i in range(3):
        assert h.handle(access_request(identity(), ident=i), 0.0) is not None
    full = h.handle(access_request(identity(), ident=9), 0.0)
    assert full is not None and b"Reject-Reason=21" in (full.get(REPLY_MESSAGE) or b"")
    later = h.config.session.lifetime + 1
    again = h.handle(access_request(identity(), ident=10), later)  # expired sessions make room
    assert again is not None and again.code == Code.ACCESS_CHALLENGE
    assert len(h.sessions) == 1


def test_eap_start_gets_identity_request(store: MemStore) -> None:
    h = make(store)
    req = Packet(Code.ACCESS_REQUEST, 4, os.urandom(16), ((1, ALICE.encode()), (79, b"")))
    reply = h.handle(sign_request(req, SECRET), 0.0)
    assert reply is not None and reply.code == Code.ACCESS_CHALLENGE
    first = reply_eap(reply)
    assert (first.code, first.type) == (EapCode.REQUEST, EapType.IDENTITY)
    answer = EapPacket(EapCode.RESPONSE, first.identifier, EapType.IDENTITY, ALICE.encode())
    challenge = reply_eap(h.handle(access_request(answer, reply.get(STATE), 5), 0.1))
    assert challenge.type == EapType.MSCHAPV2


class BrokenStore(MemStore):
    def nt_hash(self, username: str) -> NtHashResult:
        raise ConnectionError("database is down")


def test_backend_failure_rejects(store: MemStore) -> None:
    h = make(BrokenStore())
    reply = h.handle(access_request(identity()), 0.0)
    assert reply is not None
    challenge, state = reply_eap(reply), reply.get(STATE)
    answer = mschapv2_response(challenge.data, ALICE, "x")
    resp = EapPacket(EapCode.RESPONSE, challenge.identifier, EapType.MSCHAPV2, answer)
    reject = h.handle(access_request(resp, state, 2), 1.0)
    assert reject is not None and b"Reject-Reason=21" in (reject.get(REPLY_MESSAGE) or b"")
    assert not h.sessions


def test_config_is_checked(store: MemStore) -> None:
    with pytest.raises(ValueError):
        SessionConfig((13,), MethodConfig(store))  # EAP-TLS without a certificate
    with pytest.raises(ValueError):
        SessionConfig((99,), MethodConfig(store))


def test_the_production_handler_keeps_no_outcomes(store: MemStore) -> None:
    """Review 48: the handler kept the last 64 outcomes (MSKs, inner identities) "for tests"."""
    seen: list[int] = []
    h = EapRadiusHandler(FrontConfig(SECRET, SessionConfig((26,), MethodConfig(store)),
                                     on_outcome=lambda done: seen.append(done.rounds)))
    _, accept = mschapv2_via_radius(h, "alice-password")
    assert accept is not None and accept.code == Code.ACCESS_ACCEPT
    assert seen == [3]
    assert not hasattr(h, "outcomes")
    assert not any(isinstance(v, list) and v for v in vars(h).values())
