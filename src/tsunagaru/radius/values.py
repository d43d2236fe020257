"""Encoders and decoders for RADIUS data types (RFC 2865 5, RFC 6929 3, RFC 8044).

Every decoder checks the exact length its type allows and raises :class:`MalformedPacket` otherwise.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from tsunagaru.radius.errors import MalformedPacket


class DataType(StrEnum):
    STRING = "string"
    OCTETS = "octets"
    INTEGER = "integer"
    IPADDR = "ipaddr"
    IPV6ADDR = "ipv6addr"
    IPV6PREFIX = "ipv6prefix"
    IPV4PREFIX = "ipv4prefix"
    DATE = "date"
    IFID = "ifid"
    INTEGER64 = "integer64"
    BYTE = "byte"
    SHORT = "short"
    SIGNED = "signed"
    ETHER = "ether"
    COMBO_IP = "combo-ip"
    VSA = "vsa"
    TLV = "tlv"
    EXTENDED = "extended"
    LONG_EXTENDED = "long-extended"
    ABINARY = "abinary"

    @property
    def is_container(self) -> bool:
        return self in (DataType.VSA, DataType.TLV, DataType.EXTENDED, DataType.LONG_EXTENDED)


#: FreeRADIUS spellings that mean one of ours.
ALIASES = {"evs": DataType.VSA, "uint32": DataType.INTEGER, "uint64": DataType.INTEGER64,
           "uint8": DataType.BYTE, "uint16": DataType.SHORT, "int32": DataType.SIGNED,
           "ipv4addr": DataType.IPADDR, "time": DataType.DATE}

IP = ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv6Network | ipaddress.IPv4Network
Value = str | bytes | int | IP


def parse_type(text: str) -> DataType:
    base = text.split("[", 1)[0].lower()
    if base in ALIASES:
        return ALIASES[base]
    try:
        return DataType(base)
    except ValueError:
        raise ValueError(f"unknown data type {text!r}") from None


def _fixed(n: int, what: str, data: bytes) -> None:
    if len(data) != n:
        raise MalformedPacket(f"{what} value must be {n} octets, got {len(data)}")


def _dec_uint(fmt: str, n: int, what: str) -> Callable[[bytes], int]:
    s = struct.Struct(fmt)

    def dec(data: bytes) -> int:
        _fixed(n, what, data)
        return int(s.unpack(data)[0])

    return dec


def _dec_string(data: bytes) -> str | bytes:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data


def _dec_ipv4(data: bytes) -> ipaddress.IPv4Address:
    _fixed(4, "ipaddr", data)
    return ipaddress.IPv4Address(data)


def _dec_ipv6(data: bytes) -> ipaddress.IPv6Address:
    _fixed(16, "ipv6addr", data)
    return ipaddress.IPv6Address(data)


def _dec_ipv6prefix(data: bytes) -> ipaddress.IPv6Network:
    # RFC 3162 2.3: reserved, prefix-length, prefix (only as many octets as needed, at most 16)
    if not 2 <= len(data) <= 18:
        raise MalformedPacket(f"ipv6prefix value must be 2..18 octets, got {len(data)}")
    plen = data[1]
    if plen > 128 or (len(data) - 2) * 8 < plen:
        raise MalformedPacket(f"ipv6prefix length {plen} does not fit its {len(data) - 2} prefix octets")
    raw = data[2:].ljust(16, b"\x00")
    return ipaddress.IPv6Network((raw, plen), strict=False)


def _dec_ipv4prefix(data: bytes) -> ipaddress.IPv4Network:
    _fixed(6, "ipv4prefix", data)
    if data[1] > 32:
        raise MalformedPacket(f"ipv4prefix length {data[1]} over 32")
    return ipaddress.IPv4Network((data[2:], data[1]), strict=False)


def _dec_combo(data: bytes) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if len(data) == 4:
        return ipaddress.IPv4Address(data)
    if len(data) == 16:
        return ipaddress.IPv6Address(data)
    raise MalformedPacket(f"combo-ip value must be 4 or 16 octets, got {len(data)}")


def _dec_fixed_octets(n: int, what: str) -> Callable[[bytes], bytes]:
    def dec(data: bytes) -> bytes:
        _fixed(n, what, data)
        return data

    return dec


DECODERS: dict[DataType, Callable[[bytes], Any]] = {
    DataType.STRING: _dec_string,
    DataType.OCTETS: bytes,
    DataType.ABINARY: bytes,
    DataType.INTEGER: _dec_uint("!I", 4, "integer"),
    DataType.DATE: _dec_uint("!I", 4, "date"),
    DataType.INTEGER64: _dec_uint("!Q", 8, "integer64"),
    DataType.BYTE: _dec_uint("!B", 1, "byte"),
    DataType.SHORT: _dec_uint("!H", 2, "short"),
    DataType.SIGNED: _dec_uint("!i", 4, "signed"),
    DataType.IPADDR: _dec_ipv4,
    DataType.IPV6ADDR: _dec_ipv6,
    DataType.IPV6PREFIX: _dec_ipv6prefix,
    DataType.IPV4PREFIX: _dec_ipv4prefix,
    DataType.COMBO_IP: _dec_combo,
    DataType.IFID: _dec_fixed_octets(8, "ifid"),
    DataType.ETHER: _dec_fixed_octets(6, "ether"),
}


def decode_value(dtype: DataType, data: bytes) -> Any:
    """Decode a leaf value; containers are decoded by the dictionary."""
    dec = DECODERS.get(dtype, bytes)
    try:
        return dec(data)
    except (ValueError, struct.error) as exc:  # ipaddress/struct complaints become one error type
        raise MalformedPacket(f"bad {dtype.value} value: {exc}") from exc


def _enc_int(fmt: str) -> Callable[[Any], bytes]:
    s = struct.Struct(fmt)

    def enc(v: Any) -> bytes:
        return s.pack(int(v))

    return enc


def _enc_string(v: Any) -> bytes:
    return v.encode("utf-8") if isinstance(v, str) else bytes(v)


def _enc_octets(v: Any) -> bytes:
    if isinstance(v, str):
        return bytes.fromhex(v[2:] if v.startswith("0x") else v)
    return bytes(v)


def _enc_ipv6prefix(v: Any) -> bytes:
    net = ipaddress.IPv6Network(v, strict=False)
    n = (net.prefixlen + 7) // 8
    return bytes((0, net.prefixlen)) + net.network_address.packed[:n]


def _enc_ipv4prefix(v: Any) -> bytes:
    net = ipaddress.IPv4Network(v, strict=False)
    return bytes((0, net.prefixlen)) + net.network_address.packed


ENCODERS: dict[DataType, Callable[[Any], bytes]] = {
    DataType.STRING: _enc_string,
    DataType.OCTETS: _enc_octets,
    DataType.ABINARY: _enc_octets,
    DataType.INTEGER: _enc_int("!I"),
    DataType.DATE: _enc_int("!I"),
    DataType.INTEGER64: _enc_int("!Q"),
    DataType.BYTE: _enc_int("!B"),
    DataType.SHORT: _enc_int("!H"),
    DataType.SIGNED: _enc_int("!i"),
    DataType.IPADDR: lambda v: ipaddress.IPv4Address(v).packed,
    DataType.IPV6ADDR: lambda v: ipaddress.IPv6Address(v).packed,
    DataType.COMBO_IP: lambda v: ipaddress.ip_address(v).packed,
    DataType.IPV6PREFIX: _enc_ipv6prefix,
    DataType.IPV4PREFIX: _enc_ipv4prefix,
    DataType.IFID: _enc_octets,
    DataType.ETHER: lambda v: (
        bytes.fromhex(v.replace(":", "").replace("-", "")) if isinstance(v, str) else bytes(v)
    ),
}


def encode_value(dtype: DataType, value: Any) -> bytes:
    enc = ENCODERS.get(dtype)
    if enc is None:
        raise ValueError(f"cannot encode a {dtype.value} from a plain value")
    try:
        return enc(value)
    except (struct.error, TypeError) as exc:
        raise ValueError(f"cannot encode {value!r} as {dtype.value}: {exc}") from exc
