"""A catalogue of broken packets per method (after hostapd's test_eap_proto.py): none may crash the
server; each ends the conversation with EAP-Failure or is silently discarded."""

from __future__ import annotations

import contextlib
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from OpenSSL import SSL

from tests.eap.certs import Pki
from tests.eap.helpers import mschapv2_response, session
from tests.eap.memstore import MemStore
from tests.eap.peer import Peer
from tsunagaru.eap import diameter as d
from tsunagaru.eap.packet import EapCode, EapPacket, EapType, MalformedEap
from tsunagaru.eap.session import EapSession, State
from tsunagaru.eap.tls_engine import FLAG_L, FLAG_M

ALICE = "alice@idp.tsunagaru.test"


def ended_or_ignored(s: EapSession, before: State, reply: bytes | None) -> bool:
    if reply is None:
        return s.state is before
    return s.state is State.FAILURE and EapPacket.from_bytes(reply).code == EapCode.FAILURE


MSCHAPV2_BAD = {
    "empty": b"",
    "wrong-opcode": b"\x03",
    "truncated": b"\x02\x01",
    "value-size": None,  # built below
    "ms-length": None,
    "ms-id": None,
}


@pytest.mark.parametrize("case", list(MSCHAPV2_BAD))
def test_mschapv2_malformed(pki: Pki, store: MemStore, case: str) -> None:
    s = session(pki, store, (26,))
    peer = Peer(s, pki, EapType.MSCHAPV2)
    peer.identity(ALICE)
    good = mschapv2_response(peer.last.data, ALICE, "alice-password")
    data = MSCHAPV2_BAD[case]
    if case == "value-size":
        data = good[:4] + b"\x30" + good[5:]
    elif case == "ms-length":
        data = good[:2] + struct.pack("!H", len(good) + 9) + good[4:]
    elif case == "ms-id":
        data = good[:1] + bytes(((good[1] + 1) & 0xFF,)) + good[2:]
    assert data is not None
    step = peer.respond(EapType.MSCHAPV2, data)
    assert ended_or_ignored(s, State.PROPOSED, step.reply)


TLS_FRAMING_BAD = {
    "no-flags": b"",
    "length-truncated": bytes((FLAG_L,)) + b"\x00\x01",
    "length-over-limit": bytes((FLAG_L | FLAG_M,)) + struct.pack("!I", 1 << 20) + b"x",
    "more-without-data": bytes((FLAG_M,)),
    "short-of-length": bytes((FLAG_L,)) + struct.pack("!I", 50) + b"x" * 10,
    "not-tls": b"\x00" + b"GET / HTTP/1.1\r\n\r\n",
    "ack-instead-of-hello": b"\x00",
}


@pytest.mark.parametrize("eap_type", [EapType.TLS, EapType.TTLS, EapType.PEAP])
@pytest.mark.parametrize("case", list(TLS_FRAMING_BAD))
def test_tls_framing_malformed(pki: Pki, store: MemStore, eap_type: int, case: str) -> None:
    s = session(pki, store, (eap_type,))
    peer = Peer(s, pki, eap_type)
    peer.identity()
    step = peer.respond(eap_type, TLS_FRAMING_BAD[case])
    if step.reply is not None and s.state is not State.FAILURE:  # an alert went out: the peer ACKs it
        step = peer.respond(eap_type, b"\x00")
    assert ended_or_ignored(s, State.PROPOSED, step.reply)


def test_data_while_server_fragments(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (EapType.TTLS,), fragment_size=64)
    peer = Peer(s, pki, EapType.TTLS)
    peer.identity()
    with contextlib.suppress(SSL.WantReadError):
        peer.tls.do_handshake()
    peer.respond(EapType.TTLS, b"\x00" + peer.tls.bio_read(65536))
    assert peer.last.data[0] & FLAG_M  # the server is sending fragments
    step = peer.respond(EapType.TTLS, b"\x00unexpected")
    assert ended_or_ignored(s, State.METHOD, step.reply)


def ttls_open(pki: Pki, store: MemStore) -> Peer:
    peer = Peer(session(pki, store, (EapType.TTLS,)), pki, EapType.TTLS)
    peer.handshake()
    return peer


TTLS_AVPS_BAD = {
    "garbage": b"\x00\x00\x00\x01\x40\x00\x00\x04",
    "no-user-name": d.Avp(d.USER_PASSWORD, b"alice-password").to_bytes(),
    "no-auth": d.Avp(d.USER_NAME, ALICE.encode()).to_bytes(),
    "bad-implicit-challenge": d.encode_avps(
        [
            d.Avp(d.USER_NAME, ALICE.encode()),
            d.Avp(d.MS_CHAP_CHALLENGE, b"\x00" * 16, d.MICROSOFT),
            d.Avp(d.MS_CHAP2_RESPONSE, b"\x00" * 50, d.MICROSOFT),
        ]
    ),
    "short-chap2-response": d.encode_avps(
        [d.Avp(d.USER_NAME, ALICE.encode()), d.Avp(d.MS_CHAP2_RESPONSE, b"\x00" * 10, d.MICROSOFT)]
    ),
    "inner-eap-garbage": d.Avp(d.EAP_MESSAGE, b"\x02\x00\x00\x09\x01").to_bytes(),
    "inner-eap-request": d.Avp(d.EAP_MESSAGE, b"\x01\x00\x00\x05\x01").to_bytes(),
    "non-utf8-user": d.encode_avps([d.Avp(d.USER_NAME, b"\xff"), d.Avp(d.USER_PASSWORD, b"x")]),
}


@pytest.mark.parametrize("case", list(TTLS_AVPS_BAD))
def test_ttls_avps_malformed(pki: Pki, store: MemStore, case: str) -> None:
    peer = ttls_open(pki, store)
    peer.app(TTLS_AVPS_BAD[case])
    step = peer.step
    assert step is not None
    if step.reply is not None and peer.session.state is not State.FAILURE:
        peer.ack()  # a TLS alert or similar went out first
        step = peer.step
        assert step is not None
    assert ended_or_ignored(peer.session, State.METHOD, step.reply)


def test_ttls_pap_in_memory(pki: Pki, store: MemStore) -> None:
    peer = ttls_open(pki, store)
    peer.app(
        d.encode_avps([d.Avp(d.USER_NAME, ALICE.encode()), d.Avp(d.USER_PASSWORD, b"alice-password\0\0")])
    )
    outcome = peer.session.outcome
    assert outcome is not None and outcome.success and len(outcome.msk) == 64 and len(outcome.emsk) == 64
    assert outcome.msk == peer.tls.export_keying_material(b"ttls keying material", 128)[:64]


def test_credential_checks_are_questions_the_session_returns(pki: Pki, store: MemStore) -> None:
    """Issue 9.7: the methods never call the store; a step that needs a credential returns the question
    (here the inner MSCHAPv2 response inside TTLS: look up the NT hash), the session discards responses
    until it is answered, and ``resume`` with the answer gives the step that was due."""
    from tsunagaru.eap.credentials import LookupNtHash, answer_now

    peer = Peer(session(pki, store, (EapType.TTLS,)), pki, EapType.TTLS)
    peer.handshake()  # every handshake step answered without a question (Peer would settle them)
    identity = EapPacket(EapCode.RESPONSE, 0, EapType.IDENTITY, ALICE.encode()).to_bytes()
    challenge = EapPacket.from_bytes(d.eap_payload(d.parse_avps(peer.app(d.Avp(d.EAP_MESSAGE, identity).to_bytes())))
                                     or b"")
    response = EapPacket(EapCode.RESPONSE, challenge.identifier, EapType.MSCHAPV2,
                         mschapv2_response(challenge.data, ALICE, "alice-password")).to_bytes()
    peer.tls.sendall(d.Avp(d.EAP_MESSAGE, response).to_bytes())
    raw = EapPacket(EapCode.RESPONSE, peer.last.identifier, EapType.TTLS, b"\x00" + peer.tls.bio_read(65536))
    step = peer.session.receive(raw.to_bytes(), 0.0)
    assert step.reply is None and step.query == LookupNtHash(ALICE) and peer.session.pending == step.query
    assert peer.session.receive(raw.to_bytes(), 0.0).reply is None  # waiting: discarded
    step = peer.session.resume(answer_now(store, step.query), 0.0)
    assert step.reply is not None and step.query is None and peer.session.pending is None


def test_ttls_inner_session_runs_on_real_time(pki: Pki, store: MemStore) -> None:
    """Review 47: the inner EapSession ran with now=0.0."""
    from tsunagaru.eap.methods.ttls import EapTtls

    peer = Peer(session(pki, store, (EapType.TTLS,)), pki, EapType.TTLS)
    peer.handshake()
    peer.now = 1000.0
    identity = EapPacket(EapCode.RESPONSE, 0, EapType.IDENTITY, ALICE.encode()).to_bytes()
    peer.app(d.Avp(d.EAP_MESSAGE, identity).to_bytes())
    method = peer.session.method
    assert isinstance(method, EapTtls)
    inner = method._inner
    assert inner is not None and getattr(inner, "created", 0.0) == method.now == 1000.0


def peap_open(pki: Pki, store: MemStore) -> Peer:
    peer = Peer(session(pki, store, (EapType.PEAP,)), pki, EapType.PEAP)
    peer.handshake()
    # The inner EAP-Request/Identity comes with the server's Finished (no ACK round trip), whole: the
    # 5-octet form wpa_supplicant and FreeRADIUS use, the only one wpa_supplicant takes there.
    inner = EapPacket.from_bytes(peer.early_data())
    assert (inner.code, inner.type, inner.data) == (EapCode.REQUEST, EapType.IDENTITY, b"")
    return peer


PEAP_BAD = {
    "empty-inner": b"",
    "inner-nak-garbage": b"\x03",
    "tlv-too-early": EapPacket(EapCode.RESPONSE, 0, EapType.TLV, b"\x80\x03\x00\x02\x00\x01").to_bytes(),
    "inner-identity-bad-utf8": b"\x01\xff\xfe",
}


def finish_result(peer: Peer, got: bytes) -> None:
    """If the server answered with a Result TLV (inner failure), echo a failure Result like a peer."""
    if got[:1] == b"\x01" and len(got) > 4 and got[4] == EapType.TLV:
        peer.app(EapPacket(EapCode.RESPONSE, got[1], EapType.TLV, b"\x80\x03\x00\x02\x00\x02").to_bytes())


@pytest.mark.parametrize("case", list(PEAP_BAD))
def test_peap_inner_malformed(pki: Pki, store: MemStore, case: str) -> None:
    peer = peap_open(pki, store)
    data = PEAP_BAD[case]
    got = peer.app(data) if data else peer.ack()
    finish_result(peer, got)
    assert peer.step is not None
    assert ended_or_ignored(peer.session, State.METHOD, peer.step.reply)


def peap_to_result(peer: Peer, password: str = "alice-password") -> bytes:
    challenge = peer.app(b"\x01" + ALICE.encode())
    assert challenge[0] == EapType.MSCHAPV2
    success = peer.app(b"\x1a" + mschapv2_response(challenge[1:], ALICE, password))
    assert success[0] == EapType.MSCHAPV2
    return peer.app(b"\x1a" + success[1:2])  # Success or Failure ack, by OpCode


def test_peap_in_memory(pki: Pki, store: MemStore) -> None:
    peer = peap_open(pki, store)
    result = EapPacket.from_bytes(peap_to_result(peer))
    assert result.type == EapType.TLV and result.data == b"\x80\x03\x00\x02\x00\x01"
    peer.app(EapPacket(EapCode.RESPONSE, result.identifier, EapType.TLV, result.data).to_bytes())
    outcome = peer.session.outcome
    assert outcome is not None and outcome.success and outcome.inner_identity == ALICE
    assert outcome.msk == peer.tls.export_keying_material(b"client EAP encryption", 128)[:64]


def test_peap_wrong_password_in_memory(pki: Pki, store: MemStore) -> None:
    peer = peap_open(pki, store)
    finish_result(peer, peap_to_result(peer, "wrong"))
    outcome = peer.session.outcome
    assert outcome is not None and not outcome.success and outcome.reject_reason == 10


@pytest.mark.parametrize(
    "tlv",
    [
        b"\x02\x00\x00\x05\x01",
        EapPacket(EapCode.RESPONSE, 0, EapType.TLV, b"\x80\x03\x00\x01").to_bytes(),
        EapPacket(EapCode.RESPONSE, 0, EapType.TLV, b"\x80\x03\x00\x02\x00\x02").to_bytes(),
        EapPacket(EapCode.RESPONSE, 0, EapType.TLV, b"\x80\x07\x00\x00").to_bytes(),
    ],
)
def test_peap_bad_result_tlv(pki: Pki, store: MemStore, tlv: bytes) -> None:
    peer = peap_open(pki, store)
    peap_to_result(peer)
    peer.app(tlv)
    assert peer.step is not None
    assert ended_or_ignored(peer.session, State.METHOD, peer.step.reply)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([EapType.TTLS, EapType.PEAP]))
def test_tunnel_fuzz(pki: Pki, data: bytes, eap_type: int) -> None:
    """Random application data inside a standing tunnel never crashes the server."""
    store = MemStore(passwords={ALICE: "alice-password"})
    peer = Peer(session(pki, store, (eap_type,)), pki, eap_type)
    peer.handshake()
    if eap_type == EapType.PEAP:
        peer.ack()
    if data:
        peer.app(data)
    else:
        peer.ack()
    assert peer.step is not None and peer.step.state in State


def test_eap_fuzz_target_short_run(tmp_path: Path) -> None:
    import subprocess
    import sys

    pytest.importorskip("atheris")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, str(root / "fuzz" / "fuzz_eap.py"), "-atheris_runs=20000"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 20000" in result.stderr


def test_peap_result_tlv_status_must_be_success_or_failure() -> None:
    """Found by fuzz/fuzz_peap_tlv.py: a Result TLV with status 0x26 was read as a status (the caller then
    failed closed); it is malformed."""
    from tsunagaru.eap.methods.peap import parse_result

    with pytest.raises(MalformedEap, match="neither success nor failure"):
        parse_result(bytes.fromhex("f200000000030002" "0026"))
    assert parse_result(bytes.fromhex("800300020001")) == 1


@pytest.mark.parametrize("target", ["fuzz_ttls_avp.py", "fuzz_peap_tlv.py"])
def test_tunnel_fuzz_targets_short_run(tmp_path: Path, target: str) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, str(root / "fuzz" / target), "-atheris_runs=20000"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 20000" in result.stderr
