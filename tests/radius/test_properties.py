"""Hypothesis properties of the codec: round trips, and only MalformedPacket on bad input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagaru.radius import (
    MalformedPacket,
    Packet,
    Secrets,
    decode_packet,
    default_dictionary,
    eap_message,
    encode,
    hiding,
    with_eap_message,
)
from tsunagaru.radius.attributes import EXTENDED, _decode_top

attribute = st.tuples(st.integers(0, 255), st.binary(max_size=253))
packets = st.builds(
    Packet,
    code=st.integers(0, 255),
    identifier=st.integers(0, 255),
    authenticator=st.binary(min_size=16, max_size=16),
    attributes=st.lists(attribute, max_size=12).map(tuple),
)
SECRET = b"s3cret"


@given(packets)
def test_encode_decode_round_trip(packet: Packet) -> None:
    wire = packet.to_bytes()
    again = Packet.from_bytes(wire)
    assert again == packet
    assert again.to_bytes() == wire
    assert Packet(again.code, again.identifier, again.authenticator, again.attributes).to_bytes() == wire


@given(st.binary(max_size=600))
def test_from_bytes_raises_only_malformed(data: bytes) -> None:
    try:
        packet = Packet.from_bytes(data)
    except MalformedPacket:
        return
    assert packet.to_bytes() == data[: len(packet.to_bytes())]


@given(packets, st.booleans())
def test_decode_packet_never_raises(packet: Packet, with_secret: bool) -> None:
    """Review 42: this asserted only "no exception". Each decoded attribute comes from one of the packet's
    own attributes, and plain attributes decode one for one: nothing invented, nothing lost."""
    secrets = Secrets(SECRET, packet.authenticator) if with_secret else None
    decoded = decode_packet(packet, default_dictionary(), secrets)
    present = {t for t, _ in packet.attributes}
    assert all((a.path and a.path[0] in present) or a.vendor for a in decoded), decoded
    plain = [t for t, _ in packet.attributes if t < 241 and t != 26]
    assert len([a for a in decoded if a.vendor == 0 and a.path[0] < 241 and a.path[0] != 26]) == len(plain)


vendor_attrs = st.lists(
    st.tuples(st.sampled_from([26, 241, 245, 26]),
              st.builds(lambda v, b: v + b, st.sampled_from([b"\0\0\x01\x37", b"\0\0\x9f\x68", b"\x1a\0\0"]),
                        st.binary(max_size=240))),
    max_size=6,
)


@given(vendor_attrs)
def test_decode_never_raises_on_vendor_and_extended_shapes(attrs: list[tuple[int, bytes]]) -> None:
    decoded = decode_packet(Packet(1, 1, attributes=tuple(attrs)), default_dictionary(), Secrets(SECRET, bytes(16)))
    present = {t for t, _ in attrs}
    assert all(isinstance(a.name, str) and a.name for a in decoded)
    assert all(a.vendor or a.path[0] in present for a in decoded)  # nothing invented
    # (a VSA holding only its Vendor-Id decodes to nothing: an empty container, left alone here)


@given(st.binary(max_size=128), st.binary(min_size=16, max_size=16))
def test_user_password_hide_reveal(password: bytes, auth: bytes) -> None:
    hidden = hiding.hide_user_password(password, SECRET, auth)
    assert len(hidden) % 16 == 0 and 16 <= len(hidden) <= 128
    assert hiding.reveal_user_password(hidden, SECRET, auth) == password.rstrip(b"\0")


@given(st.binary(max_size=239), st.binary(min_size=16, max_size=16), st.binary(min_size=2, max_size=2))
def test_salt_encrypt_decrypt(plain: bytes, auth: bytes, salt: bytes) -> None:
    assert hiding.salt_decrypt(hiding.salt_encrypt(plain, SECRET, auth, salt=salt), SECRET, auth) == plain


@given(st.binary(min_size=1, max_size=3000))
def test_eap_message_split_and_join(eap: bytes) -> None:
    pkt = with_eap_message(Packet(1, 1), eap)
    assert all(len(v) <= 253 for _, v in pkt.attributes)
    assert eap_message(Packet.from_bytes(pkt.to_bytes())) == eap


@settings(max_examples=50)
@given(st.binary(min_size=0, max_size=1000))
def test_long_extended_fragmentation(value: bytes) -> None:
    d = default_dictionary()
    d2 = type(d)(dict(d.by_key), dict(d.by_name), dict(d.vendors), dict(d.vendor_ids))
    d2.load_text("ATTRIBUTE Test-Long 245.200 octets\n")
    attrs = encode(d2, "Test-Long", value)
    assert all(t == 245 and len(v) <= 253 for t, v in attrs)
    assert all(v[1] & 0x80 for _, v in attrs[:-1]) and not attrs[-1][1][1] & 0x80
    got = [a for a in decode_packet(Packet(1, 1, attributes=tuple(attrs)), d2) if a.name == "Test-Long"]
    assert len(got) == 1 and got[0].value == value


def test_extended_range() -> None:
    assert 241 in EXTENDED and 245 not in EXTENDED


Subs = list[tuple[int, bytes]]
sub_attributes = st.lists(st.tuples(st.integers(0, 30), st.binary(max_size=20)), max_size=5)


@given(st.sampled_from([311, 14122, 40808, 9]), sub_attributes, st.binary(max_size=3))
def test_fast_paths_agree_with_general_decoder(vendor: int, subs: Subs, junk: bytes) -> None:
    d = default_dictionary()
    body = vendor.to_bytes(4, "big") + b"".join(bytes((t, len(v) + 2)) + v for t, v in subs) + junk
    for t, v in ((26, body), (1, junk), (5, junk), (4, junk)):
        assert decode_packet(Packet(1, 1, attributes=((t, v),)), d) == list(_decode_top(t, v, d, None))
