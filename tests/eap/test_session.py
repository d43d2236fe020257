"""The session machine: Identity, Nak, identifiers, retransmission, expiry, a whole EAP-MSCHAPv2 run."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.eap.certs import Pki
from tests.eap.helpers import mschapv2_response, session, settle
from tests.eap.memstore import MemStore
from tsunagaru.eap.credentials import Verdict
from tsunagaru.eap.packet import EapCode, EapPacket, EapType
from tsunagaru.eap.session import TRANSITIONS, EapSession, State

ALICE = "alice@idp.tsunagaru.test"


def respond(s: EapSession, ident: int, eap_type: int, data: bytes, now: float = 0.0) -> EapPacket | None:
    step = settle(s, s.receive(EapPacket(EapCode.RESPONSE, ident, eap_type, data).to_bytes(), now), now)
    return None if step.reply is None else EapPacket.from_bytes(step.reply)


def test_table_names_every_state() -> None:
    assert {s for s, _ in TRANSITIONS} | set(TRANSITIONS.values()) == set(State)


def test_identity_then_first_method(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26, 21))
    req = respond(s, 9, EapType.IDENTITY, ALICE.encode())
    assert req is not None and (req.code, req.identifier, req.type) == (EapCode.REQUEST, 10, EapType.MSCHAPV2)
    assert s.state is State.PROPOSED and s.identity == ALICE


def test_nak_moves_to_an_acceptable_method(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26, 21))
    respond(s, 1, EapType.IDENTITY, ALICE.encode())
    req = respond(s, 2, EapType.NAK, bytes((25, 21)))
    assert req is not None and req.type == EapType.TTLS and req.data == b"\x20"  # Start
    assert s.state is State.PROPOSED


def test_nak_with_nothing_acceptable_fails(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26,))
    respond(s, 1, EapType.IDENTITY, ALICE.encode())
    final = respond(s, 2, EapType.NAK, bytes((4,)))
    assert final == EapPacket(EapCode.FAILURE, 2)
    assert s.outcome is not None and s.outcome.verdict is Verdict.METHOD_NOT_ALLOWED


def test_nak_after_the_method_started_is_discarded(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (21, 26))
    respond(s, 1, EapType.IDENTITY, ALICE.encode())
    respond(s, 2, EapType.TTLS, b"\x00" + b"\x16\x03\x01\x00\x00")  # starts the method (bad TLS)
    before = s.state
    answer = respond(s, 3, EapType.NAK, bytes((26,)))
    # Review 36: this said "None or FAILURE", which holds whatever happens. A Nak once the method has
    # started is out of place: discarded, no answer, the state unchanged (and MSCHAPv2 never proposed).
    assert answer is None and s.state is before
    assert s.method is not None and s.method.eap_type == EapType.TTLS


def test_wrong_identifier_and_requests_are_discarded(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26,))
    respond(s, 1, EapType.IDENTITY, ALICE.encode())
    assert respond(s, 7, EapType.MSCHAPV2, b"\x02") is None
    assert s.receive(EapPacket(EapCode.REQUEST, 2, EapType.IDENTITY).to_bytes(), 0).reply is None
    assert s.state is State.PROPOSED


def test_retransmission_then_timeout(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26,), now=100.0)
    first = s.start(100.0)
    assert s.timer() == 103.0
    assert s.handle_timer(101.0).reply is None
    for i in range(s.config.max_retransmits):
        assert s.handle_timer(103.0 + 3 * i).reply == first
    step = s.handle_timer(200.0)
    assert step.state is State.FAILURE and step.outcome is not None and step.outcome.reject_reason == 22
    assert s.timer() is None


def test_expiry(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26,), now=10.0)
    assert not s.expired(10.0 + s.config.lifetime)
    assert s.expired(10.1 + s.config.lifetime)


def mschapv2_run(s: EapSession, password: str) -> tuple[EapPacket, EapPacket]:
    """Identity, Challenge/Response, then the ack of the server's Success or Failure request."""
    challenge = respond(s, 1, EapType.IDENTITY, ALICE.encode())
    assert challenge is not None
    answer = mschapv2_response(challenge.data, ALICE, password)
    verdict_req = respond(s, challenge.identifier, EapType.MSCHAPV2, answer)
    assert verdict_req is not None
    final = respond(s, verdict_req.identifier, EapType.MSCHAPV2, verdict_req.data[:1])
    assert final is not None
    return verdict_req, final


def test_eap_mschapv2_success(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26,))
    success_req, final = mschapv2_run(s, "alice-password")
    assert success_req.data[0] == 3 and b"S=" in success_req.data
    assert final.code == EapCode.SUCCESS
    assert s.outcome is not None and s.outcome.success and len(s.outcome.msk) == 32
    assert s.receive(b"\x02\x00\x00\x05\x01", 0).reply is None  # final: nothing more


def test_eap_mschapv2_wrong_password(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26,))
    failure_req, final = mschapv2_run(s, "nope")
    assert failure_req.data[0] == 4 and b"E=691" in failure_req.data
    assert final.code == EapCode.FAILURE
    assert s.outcome is not None and s.outcome.reject_reason == 10


def test_expanded_nak(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26, 25))
    respond(s, 1, EapType.IDENTITY, ALICE.encode())
    entries = bytes.fromhex("fe 000000 00000019") + bytes.fromhex("fe 009e8c 00000001")  # PEAP, vendor
    req = respond(s, 2, EapType.EXPANDED, bytes.fromhex("000000 00000003") + entries)
    assert req is not None and req.type == EapType.PEAP


def test_max_rounds_bounds_a_conversation(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (26,))
    respond(s, 1, EapType.IDENTITY, ALICE.encode())
    ident = 2
    for _ in range(s.config.max_rounds + 1):
        if s.state is State.FAILURE:
            break
        respond(s, ident, EapType.NOTIFICATION, b"")  # discarded, but counted
    assert s.state is State.FAILURE and s.outcome is not None and s.outcome.reject_reason == 30


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from([1, 3, 13, 21, 25, 26, 254, 99]), st.binary(max_size=80)), max_size=8),
    st.sampled_from([26, 21, 25, 13]),
)
def test_session_fuzz(pki: Pki, packets: list[tuple[int, bytes]], method: int) -> None:
    """Random Type-Data in any state: the session answers, discards or fails, and never raises."""
    s = session(pki, MemStore(), (method,))
    reply = respond(s, 1, EapType.IDENTITY, ALICE.encode())
    for eap_type, data in packets:
        ident = reply.identifier if reply is not None else 0
        step = settle(s, s.receive(EapPacket(EapCode.RESPONSE, ident, eap_type, data).to_bytes(), 0.0))
        reply = EapPacket.from_bytes(step.reply) if step.reply is not None else reply
        assert step.state in State
