"""Every RFC 2865 / RFC 6929 data type: encode by name, decode back, same value (and bad lengths stay raw)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.radius import (
    Dictionary,
    Packet,
    Secrets,
    decode_packet,
    default_dictionary,
    encode,
    load_builtin,
)
from tsunagaru.radius.values import DataType

TYPES = """
ATTRIBUTE T-String 240.1 string
ATTRIBUTE T-Octets 240.2 octets
ATTRIBUTE T-Integer 240.3 integer
ATTRIBUTE T-Ipaddr 240.4 ipaddr
ATTRIBUTE T-Ipv6addr 240.5 ipv6addr
ATTRIBUTE T-Ipv6prefix 240.6 ipv6prefix
ATTRIBUTE T-Date 240.7 date
ATTRIBUTE T-Ifid 240.8 ifid
ATTRIBUTE T-Integer64 240.9 integer64
"""


def _dictionary() -> Dictionary:
    d = load_builtin()
    d.load_text("ATTRIBUTE T-Container 240 tlv\n" + TYPES)
    return d


D = _dictionary()
VALUES = {
    DataType.STRING: st.text(max_size=60),
    DataType.OCTETS: st.binary(max_size=60),
    DataType.INTEGER: st.integers(0, 2**32 - 1),
    DataType.DATE: st.integers(0, 2**32 - 1),
    DataType.INTEGER64: st.integers(0, 2**64 - 1),
    DataType.IPADDR: st.ip_addresses(v=4),
    DataType.IPV6ADDR: st.ip_addresses(v=6),
    DataType.IFID: st.binary(min_size=8, max_size=8),
    DataType.IPV6PREFIX: st.builds(lambda a, n: ipaddress.IPv6Network((int(a), n), strict=False),
                                   st.ip_addresses(v=6), st.integers(0, 128)),
}


@pytest.mark.parametrize("dtype", list(VALUES))
@given(data=st.data())
def test_type_round_trips_inside_a_tlv(dtype: DataType, data: st.DataObject) -> None:
    value = data.draw(VALUES[dtype])
    name = {DataType.STRING: "T-String", DataType.OCTETS: "T-Octets", DataType.INTEGER: "T-Integer",
            DataType.IPADDR: "T-Ipaddr", DataType.IPV6ADDR: "T-Ipv6addr", DataType.IPV6PREFIX: "T-Ipv6prefix",
            DataType.DATE: "T-Date", DataType.IFID: "T-Ifid", DataType.INTEGER64: "T-Integer64"}[dtype]
    attrs = encode(D, name, value)
    got = [a for a in decode_packet(Packet.from_bytes(Packet(1, 1, attributes=tuple(attrs)).to_bytes()), D)]
    assert len(got) == 1 and got[0].name == name and got[0].error is None
    assert got[0].value == value


@given(st.text(max_size=100), st.binary(min_size=16, max_size=16))
def test_every_builtin_hidden_attribute_round_trips(text: str, auth: bytes) -> None:
    d = default_dictionary()
    secrets = Secrets(b"secret", auth)
    short = text.encode()[:128].decode("utf-8", "ignore")
    for name, value in (("User-Password", short.rstrip("\0")), ("Tunnel-Password", short),
                        ("MS-MPPE-Send-Key", text.encode()[:200])):
        attrs = tuple(encode(d, name, value, secrets=secrets))
        got = decode_packet(Packet(1, 1, attributes=attrs), d, secrets)
        assert [(a.name, a.value) for a in got] == [(name, value)]


@pytest.mark.parametrize(("name", "raw"), [
    ("NAS-Port", b"\0\0\1"), ("NAS-IP-Address", b"\1\2\3"), ("Framed-Interface-Id", b"\0" * 7),
    ("Framed-IPv6-Prefix", b"\0\x81"), ("Event-Timestamp", b"\0" * 5), ("NAS-IPv6-Address", b"\0" * 15),
])
def test_wrong_lengths_are_reported_not_raised(name: str, raw: bytes) -> None:
    d = default_dictionary()
    number = d[name].path[0]
    [attr] = decode_packet(Packet(1, 1, attributes=((number, raw),)), d)
    assert attr.name == name and attr.value == raw and attr.error
