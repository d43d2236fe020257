"""Attributes with meaning: decode a packet's raw attributes through a dictionary, and encode by name.

Vendor-Specific (26, RFC 2865 5.26, format 1,1), RFC 6929 Extended (241-244), Long-Extended (245-246,
fragments joined on the M flag), TLVs and Extended-Vendor-Specific are handled here. What the
dictionary does not know keeps its raw bytes under a generated name (``Attr-26.99999.1``) so that
nothing is lost; the wire packet itself is never rewritten by decoding.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from tsunagaru.radius import hiding
from tsunagaru.radius.dictionary import AttributeDef, Dictionary
from tsunagaru.radius.errors import MalformedPacket
from tsunagaru.radius.packet import MAX_ATTR_VALUE, VENDOR_SPECIFIC, Packet, iter_tlv, split_value
from tsunagaru.radius.values import DataType, encode_value

EXTENDED = range(241, 245)
LONG_EXTENDED = range(245, 247)
EVS = 26  # Extended-Vendor-Specific inside an extended space
MORE = 0x80  # Long-Extended "M" flag


class Attr(NamedTuple):
    """One decoded attribute. ``value`` is raw bytes when unknown, hidden, or malformed (see ``error``).

    A named tuple rather than a dataclass: a packet decodes into a score of these, and building tuples
    is several times cheaper (see bench/radius_codec.py).
    """

    name: str
    vendor: int
    path: tuple[int, ...]
    value: Any
    tag: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Secrets:
    """What reveals hidden attributes: the shared secret and the Request Authenticator of the request."""

    secret: bytes
    request_authenticator: bytes


def attr_number(vendor: int, path: tuple[int, ...]) -> str:
    """FreeRADIUS-style dotted number: ``200``, ``26.311.16``, ``241.26.12345.5``, ``241.1``."""
    if vendor and len(path) > 2 and path[1] == EVS:
        parts = [path[0], EVS, vendor, *path[2:]]
    elif vendor:
        parts = [26, vendor, *path]
    else:
        parts = list(path)
    return ".".join(map(str, parts))


def _unknown_name(vendor: int, path: tuple[int, ...]) -> str:
    return "Attr-" + attr_number(vendor, path)


def decode_packet(packet: Packet, d: Dictionary, secrets: Secrets | None = None) -> list[Attr]:
    """Decode every attribute of ``packet``; never raises for attribute contents (they stay raw)."""
    out: list[Attr] = []
    attrs = packet.attributes
    by_key = d.by_key
    i = 0
    while i < len(attrs):
        t, v = attrs[i]
        i += 1
        if t < 241 and t != VENDOR_SPECIFIC:  # fast path: a plain standard attribute
            adef = by_key.get((0, (t,)))
            if adef is not None and adef.plain:
                out.append(_leaf_value(adef, 0, adef.path, v, None))
                continue
        elif t == VENDOR_SPECIFIC and _plain_vsa(v, d, out):
            continue
        if t in LONG_EXTENDED and len(v) >= 2:
            while v[1] & MORE and i < len(attrs) and attrs[i][0] == t and len(attrs[i][1]) >= 2 \
                    and attrs[i][1][0] == v[0]:
                v = v[:1] + bytes((attrs[i][1][1],)) + v[2:] + attrs[i][1][2:]
                i += 1
        out.extend(_decode_top(t, v, d, secrets))
    return out


def _plain_vsa(v: bytes, d: Dictionary, out: list[Attr]) -> bool:
    """Fast path: a well-formed ``1,1`` VSA whose sub-attributes are all plain. False: use the slow one."""
    if len(v) < 6:
        return False
    vendor = int.from_bytes(v[:4], "big")
    if vendor not in d.vendors or vendor in d.vendor_formats:
        return False
    by_key = d.by_key
    found: list[Attr] = []
    pos, end = 4, len(v)
    while pos < end:
        if end - pos < 2 or v[pos + 1] < 2 or pos + v[pos + 1] > end:
            return False
        adef = by_key.get((vendor, (v[pos],)))
        if adef is None or not adef.plain:
            return False
        nxt = pos + v[pos + 1]
        found.append(_leaf_value(adef, vendor, adef.path, v[pos + 2 : nxt], None))
        pos = nxt
    out.extend(found)
    return True


def _decode_top(t: int, v: bytes, d: Dictionary, secrets: Secrets | None) -> Iterator[Attr]:
    try:
        if t == VENDOR_SPECIFIC:
            yield from _decode_vsa(v, d, secrets, prefix=())
        elif t in EXTENDED or t in LONG_EXTENDED:
            if len(v) < (1 if t in EXTENDED else 2):
                raise MalformedPacket(f"extended attribute {t} is too short")
            ext, body = v[0], (v[1:] if t in EXTENDED else v[2:])
            if ext == EVS:
                yield from _decode_vsa(body, d, secrets, prefix=(t, EVS), evs=True)
            else:
                yield from _decode_leaf(0, (t, ext), body, d, secrets)
        else:
            yield from _decode_leaf(0, (t,), v, d, secrets)
    except MalformedPacket as exc:
        yield Attr(_unknown_name(0, (t,)), 0, (t,), v, error=exc.reason)


def _decode_vsa(
    v: bytes, d: Dictionary, secrets: Secrets | None, prefix: tuple[int, ...], evs: bool = False
) -> Iterator[Attr]:
    if len(v) < 4:
        raise MalformedPacket("Vendor-Specific shorter than its vendor id")
    vendor = struct.unpack_from("!I", v)[0]
    body = v[4:]
    if evs:  # RFC 6929 2.4: vendor id then one EVS type octet, then the value
        if not body:
            raise MalformedPacket("Extended-Vendor-Specific without a type")
        yield from _decode_leaf(vendor, (*prefix, body[0]), body[1:], d, secrets)
        return
    if vendor not in d.vendors:
        yield Attr(f"Attr-26.{vendor}", vendor, (), body)
        return
    fmt = d.vendor_formats.get(vendor)
    if fmt is None:
        subs = list(iter_tlv(body, what=f"vendor {vendor} sub-attribute"))
    else:
        subs = list(_iter_vendor_format(body, fmt, vendor))
    for sub_type, sub_value in subs:
        yield from _decode_leaf(vendor, (sub_type,), sub_value, d, secrets)


def _iter_vendor_format(body: bytes, fmt: tuple[int, int], vendor: int) -> Iterator[tuple[int, bytes]]:
    """Walk VSAs of a vendor with wider type/length fields (``format=2,1``, ``4,0``...)."""
    tlen, llen = fmt
    hdr = tlen + llen
    pos, end = 0, len(body)
    while pos < end:
        if end - pos < hdr:
            raise MalformedPacket(f"vendor {vendor} sub-attribute header truncated at offset {pos}")
        t = int.from_bytes(body[pos : pos + tlen], "big")
        n = int.from_bytes(body[pos + tlen : pos + hdr], "big") if llen else end - pos
        if n < hdr or pos + n > end:
            raise MalformedPacket(f"vendor {vendor} sub-attribute {t} at offset {pos} has bad length {n}")
        yield t, body[pos + hdr : pos + n]
        pos += n


def _decode_leaf(
    vendor: int, path: tuple[int, ...], data: bytes, d: Dictionary, secrets: Secrets | None
) -> Iterator[Attr]:
    adef = d.get(vendor, path)
    if adef is None:
        yield Attr(_unknown_name(vendor, path), vendor, path, data)
        return
    if adef.type == DataType.TLV:
        try:  # walk the whole TLV first so that a bad one is reported once, raw, not half decoded
            subs = list(iter_tlv(data, what=f"{adef.name} TLV"))
        except MalformedPacket as exc:
            yield Attr(adef.name, vendor, path, data, error=exc.reason)
            return
        for sub_type, sub_value in subs:
            yield from _decode_leaf(vendor, (*path, sub_type), sub_value, d, secrets)
        return
    tag: int | None = None
    if adef.has_tag and data and (data[0] <= 0x1F or adef.encrypt == 2):
        tag, data = data[0], data[1:]
        if adef.type == DataType.INTEGER:  # RFC 2868 3.1: tag replaces the high octet
            data = b"\x00" + data
    if adef.encrypt and secrets is None:
        yield Attr(adef.name, vendor, path, data, tag, error="hidden (no secret given)")
        return
    if adef.encrypt and secrets is not None:
        try:
            data = _reveal(adef, data, secrets)
        except MalformedPacket as exc:
            yield Attr(adef.name, vendor, path, data, tag, error=exc.reason)
            return
    yield _leaf_value(adef, vendor, path, data, tag)


def _leaf_value(adef: AttributeDef, vendor: int, path: tuple[int, ...], data: bytes, tag: int | None) -> Attr:
    try:
        value = adef.decoder(data)
    except MalformedPacket as exc:
        return Attr(adef.name, vendor, path, data, tag, error=exc.reason)
    except (ValueError, struct.error) as exc:  # what decode_value would have wrapped
        return Attr(adef.name, vendor, path, data, tag, error=f"bad {adef.type.value} value: {exc}")
    if adef.names and isinstance(value, int):
        value = adef.names.get(value, value)
    return Attr(adef.name, vendor, path, value, tag)


def _reveal(adef: AttributeDef, data: bytes, secrets: Secrets) -> bytes:
    if adef.encrypt == 1:
        return hiding.reveal_user_password(data, secrets.secret, secrets.request_authenticator)
    if adef.encrypt == 2:
        return hiding.salt_decrypt(data, secrets.secret, secrets.request_authenticator)
    return data


# -- encoding ------------------------------------------------------------------------------------------


def encode(
    d: Dictionary, name: str, value: Any, *, tag: int | None = None, secrets: Secrets | None = None
) -> list[tuple[int, bytes]]:
    """Raw top-level attribute(s) for ``name = value``; long values of concat/long-extended types split."""
    adef = d[name]
    if isinstance(value, str) and value in adef.values:
        value = adef.values[value]
    data = encode_value(adef.type, value)
    if adef.encrypt:
        if secrets is None:
            raise ValueError(f"{adef.name} is hidden on the wire: a secret and authenticator are needed")
        data = _hide(adef, data, secrets)
    if adef.has_tag:
        if adef.type == DataType.INTEGER:  # RFC 2868 3.1: the tag replaces the high octet
            data = bytes((tag or 0,)) + data[1:]
        elif tag or adef.encrypt == 2:  # Tunnel-Password always carries its tag octet
            data = bytes((tag or 0,)) + data
    return _wrap(adef, data, d.vendor_formats.get(adef.vendor))


def _hide(adef: AttributeDef, data: bytes, secrets: Secrets) -> bytes:
    if adef.encrypt == 1:
        return hiding.hide_user_password(data, secrets.secret, secrets.request_authenticator)
    return hiding.salt_encrypt(data, secrets.secret, secrets.request_authenticator)


def _wrap(adef: AttributeDef, data: bytes, fmt: tuple[int, int] | None = None) -> list[tuple[int, bytes]]:
    path, vendor = adef.path, adef.vendor
    if path[0] in EXTENDED or path[0] in LONG_EXTENDED:
        top = path[0]
        if vendor:  # (241, 26, evs-type, ...)
            inner = bytes((EVS,)) + struct.pack("!I", vendor) + bytes((path[2],)) + _tlv_nest(path[3:], data)
        else:
            inner = bytes((path[1],)) + _tlv_nest(path[2:], data)
        if top in LONG_EXTENDED:
            return _long_fragments(top, inner)
        return [(top, _fits(adef, inner))]
    if vendor:  # classic VSA, one sub-attribute per Vendor-Specific
        inner = _tlv_nest(path[1:], data)
        head = _vsa_header(fmt or (1, 1), path[0], len(inner))
        return [(VENDOR_SPECIFIC, _fits(adef, struct.pack("!I", vendor) + head + inner))]
    if len(path) > 1:  # RFC 6929 TLV under a standard attribute
        return [(path[0], _fits(adef, _tlv_nest(path[1:], data)))]
    if len(data) > MAX_ATTR_VALUE and adef.concat:
        return split_value(path[0], data)
    return [(path[0], _fits(adef, data))]


def _fits(adef: AttributeDef, value: bytes) -> bytes:
    if len(value) > MAX_ATTR_VALUE:
        raise ValueError(f"{adef.name}: encoded value is {len(value)} octets, over {MAX_ATTR_VALUE}")
    return value


def _vsa_header(fmt: tuple[int, int], sub_type: int, value_len: int) -> bytes:
    tlen, llen = fmt
    head = sub_type.to_bytes(tlen, "big")
    if llen:
        head += (tlen + llen + value_len).to_bytes(llen, "big")
    return head


def _tlv_nest(path: tuple[int, ...], data: bytes) -> bytes:
    """Wrap ``data`` in nested TLV headers for each number of ``path`` (innermost last)."""
    for t in reversed(path):
        if len(data) + 2 > 255:
            raise ValueError("TLV value too long")
        data = bytes((t, len(data) + 2)) + data
    return data


def _long_fragments(top: int, inner: bytes) -> list[tuple[int, bytes]]:
    ext, body = inner[0], inner[1:]
    chunk = MAX_ATTR_VALUE - 2
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    return [
        (top, bytes((ext, MORE if n < len(pieces) - 1 else 0)) + piece) for n, piece in enumerate(pieces)
    ]


def get_value(packet: Packet, d: Dictionary, name: str, secrets: Secrets | None = None) -> Any:
    """Decoded value of the first attribute called ``name``, or None."""
    for attr in decode_packet(packet, d, secrets):
        if attr.name == name or attr.name.lower() == name.lower():
            return attr.value
    return None


def find_vsa(packet: Packet, vendor: int, sub_type: int) -> bytes | None:
    """The first value of one vendor sub-attribute (format 1,1), without decoding the whole packet: the
    hot path of servers that look for a single VSA in every request. Malformed VSAs are skipped."""
    prefix = struct.pack("!I", vendor)
    for t, v in packet.attributes:
        if t != VENDOR_SPECIFIC or not v.startswith(prefix):
            continue
        pos, end = 4, len(v)
        while pos + 2 <= end:
            st, n = v[pos], v[pos + 1]
            if n < 2 or pos + n > end:
                break
            if st == sub_type:
                return v[pos + 2 : pos + n]
            pos += n
    return None


def vsa(vendor: int, sub_type: int, value: bytes) -> tuple[int, bytes]:
    """One Vendor-Specific attribute holding one sub-attribute (format 1,1)."""
    if len(value) > MAX_ATTR_VALUE - 6:
        raise ValueError(f"vendor {vendor} attribute {sub_type} value too long")
    return (VENDOR_SPECIFIC, struct.pack("!IBB", vendor, sub_type, len(value) + 2) + value)
