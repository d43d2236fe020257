"""EAP packet codec, EAP-TLS framing, TTLS AVPs and PEAP TLVs: vectors both ways, bounds, fuzzing."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.eap import diameter as d
from tsunagaru.eap.methods.peap import parse_result, result_tlv_request
from tsunagaru.eap.packet import EapCode, EapPacket, EapType, MalformedEap, identity_text, nak_types
from tsunagaru.eap.tls_engine import FLAG_L, FLAG_M, FLAG_S, Fragmenter, Reassembler, RecordCounter, TlsFrame

# EAP-Response/Identity "alice": code 2, id 7, length 10, type 1, "alice"
IDENTITY = bytes.fromhex("02 07 000a 01 616c696365")
SUCCESS = bytes.fromhex("03 07 0004")


def test_identity_response_both_ways() -> None:
    pkt = EapPacket.from_bytes(IDENTITY)
    assert pkt == EapPacket(EapCode.RESPONSE, 7, EapType.IDENTITY, b"alice")
    assert pkt.to_bytes() == IDENTITY
    assert identity_text(pkt.data) == "alice"


def test_success_has_no_type_and_padding_is_ignored() -> None:
    assert EapPacket.from_bytes(SUCCESS + b"\x00\x00") == EapPacket(EapCode.SUCCESS, 7)
    assert EapPacket(EapCode.SUCCESS, 7).to_bytes() == SUCCESS


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x02\x01\x00",  # short header
        bytes.fromhex("02010003"),  # length below the header
        bytes.fromhex("0201000901"),  # length past the data
        bytes.fromhex("02010004"),  # response without a type
        bytes.fromhex("0301000501"),  # success with a body
        bytes.fromhex("0901000501"),  # unknown code
    ],
)
def test_malformed_eap(raw: bytes) -> None:
    with pytest.raises(MalformedEap):
        EapPacket.from_bytes(raw)


def test_nak_and_identity_limits() -> None:
    assert nak_types(bytes((21, 0, 25))) == (21, 25)
    with pytest.raises(MalformedEap):
        nak_types(b"")
    with pytest.raises(MalformedEap):
        identity_text(b"\xff\xfe")
    assert identity_text(b"bob\x00junk") == "bob"


def test_tls_frame_with_length() -> None:
    raw = bytes((FLAG_L | FLAG_M,)) + (3000).to_bytes(4, "big") + b"abc"
    frame = TlsFrame.from_bytes(raw)
    assert (frame.length, frame.data) == (3000, b"abc")
    assert frame.to_bytes() == raw
    with pytest.raises(MalformedEap):
        TlsFrame.from_bytes(bytes((FLAG_L,)) + b"\x00\x00")


def test_fragmenter_and_reassembler_round_trip() -> None:
    message = bytes(range(256)) * 9
    out = Fragmenter(200)
    out.load(message)
    back = Reassembler(64 * 1024)
    frames = []
    while out.has_output():
        frames.append(TlsFrame.from_bytes(out.next_frame(0)))
    assert frames[0].flags & FLAG_L and frames[0].length == len(message)
    assert all(f.flags & FLAG_M for f in frames[:-1]) and not frames[-1].flags & FLAG_M
    results = [back.add(f) for f in frames]
    assert results[:-1] == [None] * (len(frames) - 1)
    assert results[-1] == message


@pytest.mark.parametrize(
    "frames",
    [
        [TlsFrame(FLAG_L | FLAG_M, b"x" * 10, 100_000)],  # announced over the limit
        [TlsFrame(FLAG_L | FLAG_M, b"x" * 10, 15), TlsFrame(0, b"x" * 10)],  # longer than announced
        [TlsFrame(FLAG_L, b"x" * 10, 20)],  # shorter than announced
        [TlsFrame(FLAG_M, b"")],  # M without data
        [TlsFrame(FLAG_L | FLAG_M, b"x", 5), TlsFrame(FLAG_L | FLAG_M, b"x", 6)],  # length changes
    ],
)
def test_reassembly_rejects(frames: list[TlsFrame]) -> None:
    back = Reassembler(64 * 1024)
    with pytest.raises(MalformedEap):
        for f in frames:
            back.add(f)


def test_reassembly_caps_unannounced_growth() -> None:
    back = Reassembler(4096)
    with pytest.raises(MalformedEap):
        for _ in range(10):
            back.add(TlsFrame(FLAG_M, b"x" * 1000))


def test_start_frame_is_flags_only() -> None:
    assert TlsFrame.from_bytes(bytes((FLAG_S,))).to_bytes() == bytes((FLAG_S,))


def test_avps_both_ways() -> None:
    avps = [d.Avp(d.USER_NAME, b"alice"), d.Avp(d.MS_CHAP_CHALLENGE, b"\x01" * 16, d.MICROSOFT)]
    raw = d.encode_avps(avps)
    # User-Name: code 1, flags M, length 13, "alice", 3 octets of padding
    assert raw[:16] == bytes.fromhex("00000001 40 00000d 616c696365 000000")
    assert d.parse_avps(raw) == avps


@pytest.mark.parametrize(
    "raw",
    [
        bytes.fromhex("00000001 40 000004"),  # length below the header
        bytes.fromhex("00000001 40 000020 616c"),  # length past the data
        bytes.fromhex("00000001 c0 00000a 0000"),  # vendor flag, vendor field truncated
        bytes.fromhex("000000"),  # truncated header
    ],
)
def test_malformed_avps(raw: bytes) -> None:
    with pytest.raises(MalformedEap):
        d.parse_avps(raw)


def test_avp_count_is_capped() -> None:
    with pytest.raises(MalformedEap):
        d.parse_avps(d.Avp(d.REPLY_MESSAGE, b"").to_bytes() * (d.MAX_AVPS + 1))


def test_result_tlv() -> None:
    req = EapPacket.from_bytes(result_tlv_request(5, True))
    assert req.type == EapType.TLV and req.data == bytes.fromhex("8003 0002 0001")
    assert parse_result(req.data) == 1
    for bad in (b"", bytes.fromhex("8003 0003 000100"), bytes.fromhex("8003 0001 01"), bytes.fromhex("8007")):
        with pytest.raises(MalformedEap):
            parse_result(bad)


@given(st.binary(max_size=600))
def test_decoders_raise_only_malformed(raw: bytes) -> None:
    """Review 42: "no exception" only. What decodes must also mean what the bytes say."""
    with contextlib.suppress(MalformedEap):
        pkt = EapPacket.from_bytes(raw)
        assert pkt.to_bytes() == raw[: len(pkt.to_bytes())]  # the declared length, re-encoded the same
    with contextlib.suppress(MalformedEap):
        TlsFrame.from_bytes(raw)
    with contextlib.suppress(MalformedEap):
        avps = d.parse_avps(raw)
        assert d.parse_avps(d.encode_avps(avps)) == avps
    with contextlib.suppress(MalformedEap):
        assert parse_result(raw) in (1, 2)


@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=300)), max_size=20))
def test_reassembler_fuzz(parts: list[tuple[int, bytes]]) -> None:
    back = Reassembler(2048)
    for flags, data in parts:
        try:
            msg = back.add(TlsFrame.from_bytes(bytes((flags,)) + data))
        except MalformedEap:
            back = Reassembler(2048)
            continue
        assert msg is None or len(msg) <= 2048


def records(*parts: tuple[int, int]) -> bytes:
    """TLS records of (content type, body length), TLS 1.2 version octets, zero bodies."""
    return b"".join(bytes((t, 3, 3)) + n.to_bytes(2, "big") + bytes(n) for t, n in parts)


@given(st.data())
def test_record_counter_counts_whole_application_records_however_cut(data: st.DataObject) -> None:
    wire = records((23, 30), (22, 4), (23, 0), (21, 2), (23, 1), (20, 1))
    counter = RecordCounter()
    points = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    start = 0
    for point in [*points, len(wire)]:
        counter.feed(wire[start:point])
        start = point
    assert counter.ready == 3
    counter.feed(records((23, 5))[:7])  # a record cut short: not counted until its last octet
    assert counter.ready == 3
    counter.feed(bytes(3))
    assert counter.ready == 4
