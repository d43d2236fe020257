"""Request/Response Authenticators and Message-Authenticator (RFC 2865 3, 2866 4.1, 3579 3.2, 5176).

BlastRADIUS (CVE-2024-3596): we always put Message-Authenticator *first* in the packets we sign, and
verification reports whether it was present so that policy (require it or not) stays with the caller.
"""

from __future__ import annotations

import hmac
import os
import struct

from tsunagaru.radius.codes import HASHED_AUTHENTICATOR_REQUESTS, Code
from tsunagaru.radius.digest import hmac_md5, md5
from tsunagaru.radius.errors import AuthenticatorMismatch, MalformedPacket
from tsunagaru.radius.packet import (
    HEADER,
    HEADER_LEN,
    MAX_PACKET_LEN,
    MESSAGE_AUTHENTICATOR,
    Packet,
    encode_attributes,
    with_wire,
)

ZERO16 = b"\x00" * 16
_MA_HEAD = bytes((MESSAGE_AUTHENTICATOR, 18))
_MA_ZERO = _MA_HEAD + ZERO16


def _wire_with_auth(packet: Packet, authenticator: bytes) -> bytes:
    wire = packet.to_bytes()
    return wire[:4] + authenticator + wire[20:]


def message_authenticator(packet: Packet, secret: bytes, authenticator: bytes) -> bytes:
    """HMAC-MD5 over the packet with Message-Authenticator zeroed and ``authenticator`` in the header."""
    wire = packet.to_bytes()
    parts = [wire[:4], authenticator]
    pos = start = HEADER_LEN
    for t, v in packet.attributes:  # copy the octets between Message-Authenticator values, zero those
        if t == MESSAGE_AUTHENTICATOR:
            parts += (wire[start : pos + 2], bytes(len(v)))
            start = pos + 2 + len(v)
        pos += 2 + len(v)
    parts.append(wire[start:])
    return hmac_md5(secret, b"".join(parts))


def packet_authenticator(packet: Packet, secret: bytes, vector: bytes) -> bytes:
    """MD5 over the packet with ``vector`` in the header, then the secret (RFC 2865 3, RFC 2866 4.1).

    The Response Authenticator when ``vector`` is the request's; the Accounting-Request (and CoA,
    Disconnect) Request Authenticator when ``vector`` is sixteen zeros.
    """
    return md5(_wire_with_auth(packet, vector), secret)


# -- requests ------------------------------------------------------------------------------------------


def _ma_first_wire(packet: Packet, secret: bytes, vector: bytes) -> tuple[tuple[tuple[int, bytes], ...], bytes]:
    """The attributes with one Message-Authenticator, first and filled in, and their wire form: encoded
    once, no intermediate packets (this runs for every packet an IdP or proxy sends)."""
    rest = tuple([a for a in packet.attributes if a[0] != MESSAGE_AUTHENTICATOR])
    body = encode_attributes(rest)
    length = HEADER_LEN + 18 + len(body)
    if length > MAX_PACKET_LEN:
        raise MalformedPacket(f"encoded packet would be {length} octets, over {MAX_PACKET_LEN}")
    head = HEADER.pack(packet.code, packet.identifier, length, vector)
    mac = hmac_md5(secret, b"".join((head, _MA_ZERO, body)))
    return ((MESSAGE_AUTHENTICATOR, mac), *rest), b"".join((head, _MA_HEAD, mac, body))


def sign_request(packet: Packet, secret: bytes, *, add_message_authenticator: bool = True) -> Packet:
    """Fill the Request Authenticator (random or hashed by code) and Message-Authenticator (first).

    An Access-Request with User-Password must already carry the random authenticator the password
    was hidden with; one is drawn here only when the header still holds zeros.
    """
    hashed = packet.code in HASHED_AUTHENTICATOR_REQUESTS
    if packet.code in (Code.ACCESS_REQUEST, Code.STATUS_SERVER) and packet.authenticator == ZERO16:
        packet = packet.replace(authenticator=os.urandom(16))
    if add_message_authenticator or packet.has(MESSAGE_AUTHENTICATOR):
        attrs, wire = _ma_first_wire(packet, secret, ZERO16 if hashed else packet.authenticator)
        wire = wire[:4] + packet.authenticator + wire[20:]
        packet = packet.with_attributes(attrs)
    else:
        wire = packet.to_bytes()
    if hashed:
        auth = md5(wire[:4], ZERO16, wire[20:], secret)
        packet, wire = packet.replace(authenticator=auth), wire[:4] + auth + wire[20:]
    return with_wire(packet, wire)


def verify_request(packet: Packet, secret: bytes, *, require_message_authenticator: bool) -> bool:
    """Check a received request. Returns whether Message-Authenticator was present (and valid).

    Raises :class:`AuthenticatorMismatch` when a check fails or a required attribute is missing.
    """
    hashed = packet.code in HASHED_AUTHENTICATOR_REQUESTS
    if hashed:
        expected = md5(_wire_with_auth(packet, ZERO16), secret)
        if not hmac.compare_digest(expected, packet.authenticator):
            raise AuthenticatorMismatch("Request Authenticator does not match the shared secret")
    ma_auth = ZERO16 if hashed else packet.authenticator
    return _check_ma(packet, secret, ma_auth, require_message_authenticator)


def _check_ma(packet: Packet, secret: bytes, auth: bytes, required: bool) -> bool:
    values = packet.get_all(MESSAGE_AUTHENTICATOR)
    if not values:
        if required:
            raise AuthenticatorMismatch("Message-Authenticator is required but missing")
        return False
    if len(values) > 1 or len(values[0]) != 16:
        raise MalformedPacket("Message-Authenticator must appear once with 16 octets")
    if not hmac.compare_digest(message_authenticator(packet, secret, auth), values[0]):
        raise AuthenticatorMismatch("Message-Authenticator does not verify")
    return True


# -- replies -------------------------------------------------------------------------------------------


def sign_reply(
    reply: Packet, request_authenticator: bytes, secret: bytes, *, add_message_authenticator: bool = True
) -> Packet:
    """Fill Message-Authenticator (first) and the Response Authenticator of a reply."""
    if add_message_authenticator or reply.has(MESSAGE_AUTHENTICATOR):
        attrs, wire = _ma_first_wire(reply, secret, request_authenticator)  # the request's is in the header
    else:
        attrs, wire = reply.attributes, reply.to_bytes()
        wire = wire[:4] + request_authenticator + wire[20:]
    auth = md5(wire, secret)
    return with_wire(Packet(reply.code, reply.identifier, auth, attrs), wire[:4] + auth + wire[20:])


def verify_reply(
    reply: Packet, request_authenticator: bytes, secret: bytes, *, require_message_authenticator: bool
) -> bool:
    """Check a reply against its request; returns whether Message-Authenticator was present."""
    expected = md5(_wire_with_auth(reply, request_authenticator), secret)
    if not hmac.compare_digest(expected, reply.authenticator):
        raise AuthenticatorMismatch("Response Authenticator does not match the request and secret")
    return _check_ma(reply, secret, request_authenticator, require_message_authenticator)


def length_of(packet: Packet) -> int:
    return int(struct.unpack_from("!H", packet.to_bytes(), 2)[0])


__all__ = [
    "HEADER",
    "message_authenticator",
    "packet_authenticator",
    "sign_reply",
    "sign_request",
    "verify_reply",
    "verify_request",
]
