"""Request/Response Authenticators and Message-Authenticator (RFC 2865 3, 2866 4.1, 3579 3.2, 5176).

BlastRADIUS (CVE-2024-3596): we always put Message-Authenticator *first* in the packets we sign, and
verification reports whether it was present so that policy (require it or not) stays with the caller.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from tsunagaru.radius.codes import HASHED_AUTHENTICATOR_REQUESTS, Code
from tsunagaru.radius.errors import AuthenticatorMismatch, MalformedPacket
from tsunagaru.radius.packet import HEADER, HEADER_LEN, MAX_PACKET_LEN, MESSAGE_AUTHENTICATOR, Packet, encode_attributes

ZERO16 = b"\x00" * 16


def _md5(*parts: bytes) -> bytes:
    h = hashlib.md5()
    for p in parts:
        h.update(p)
    return h.digest()


def _hmac(secret: bytes, wire: bytes) -> bytes:
    # hmac.digest is the one-shot C implementation: same result as hmac.new(...).digest(), cheaper
    return hmac.digest(secret, wire, "md5")


def _wire_with_auth(packet: Packet, authenticator: bytes) -> bytes:
    wire = packet.to_bytes()
    return wire[:4] + authenticator + wire[20:]


def _wire(code: int, identifier: int, authenticator: bytes, body: bytes) -> bytes:
    length = HEADER_LEN + len(body)
    if length > MAX_PACKET_LEN:
        raise MalformedPacket(f"encoded packet would be {length} octets, over {MAX_PACKET_LEN}")
    return HEADER.pack(code, identifier, length, authenticator) + body


def message_authenticator(packet: Packet, secret: bytes, authenticator: bytes) -> bytes:
    """HMAC-MD5 over the packet with Message-Authenticator zeroed and ``authenticator`` in the header."""
    body = encode_attributes((t, ZERO16 if t == MESSAGE_AUTHENTICATOR else v) for t, v in packet.attributes)
    return _hmac(secret, _wire(packet.code, packet.identifier, authenticator, body))


_MA_HEAD = bytes((MESSAGE_AUTHENTICATOR, 18))


def _with_signed_ma(packet: Packet, secret: bytes, ma_auth: bytes) -> tuple[Packet, bytes]:
    """``packet`` with a valid Message-Authenticator first, and its encoded attributes.

    Works on the encoded body: the other attributes are encoded once, not once per step (this runs
    for every packet a proxy forwards and answers).
    """
    rest = tuple(a for a in packet.attributes if a[0] != MESSAGE_AUTHENTICATOR)
    rest_body = encode_attributes(rest)
    ma = _hmac(secret, _wire(packet.code, packet.identifier, ma_auth, _MA_HEAD + ZERO16 + rest_body))
    signed = Packet(packet.code, packet.identifier, packet.authenticator, ((MESSAGE_AUTHENTICATOR, ma), *rest))
    return signed, _MA_HEAD + ma + rest_body


# -- requests ------------------------------------------------------------------------------------------


def sign_request(packet: Packet, secret: bytes, *, add_message_authenticator: bool = True) -> Packet:
    """Fill the Request Authenticator (random or hashed by code) and Message-Authenticator (first)."""
    hashed = packet.code in HASHED_AUTHENTICATOR_REQUESTS
    if packet.code in (Code.ACCESS_REQUEST, Code.STATUS_SERVER) and packet.authenticator == ZERO16:
        packet = packet.replace(authenticator=os.urandom(16))
    if add_message_authenticator or packet.has(MESSAGE_AUTHENTICATOR):
        packet, body = _with_signed_ma(packet, secret, ZERO16 if hashed else packet.authenticator)
    elif hashed:
        body = encode_attributes(packet.attributes)
    if hashed:
        auth = _md5(_wire(packet.code, packet.identifier, ZERO16, body), secret)
        packet = Packet(packet.code, packet.identifier, auth, packet.attributes)
    return packet


def verify_request(packet: Packet, secret: bytes, *, require_message_authenticator: bool) -> bool:
    """Check a received request. Returns whether Message-Authenticator was present (and valid).

    Raises :class:`AuthenticatorMismatch` when a check fails or a required attribute is missing.
    """
    hashed = packet.code in HASHED_AUTHENTICATOR_REQUESTS
    if hashed:
        expected = _md5(_wire_with_auth(packet, ZERO16), secret)
        if not hmac.compare_digest(expected, packet.authenticator):
            raise AuthenticatorMismatch("Request Authenticator does not match the shared secret")
    return _check_ma(packet, secret, ZERO16 if hashed else packet.authenticator, require_message_authenticator)


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
        reply, body = _with_signed_ma(reply, secret, request_authenticator)
    else:
        body = encode_attributes(reply.attributes)
    auth = _md5(_wire(reply.code, reply.identifier, request_authenticator, body), secret)
    return Packet(reply.code, reply.identifier, auth, reply.attributes)


def verify_reply(
    reply: Packet, request_authenticator: bytes, secret: bytes, *, require_message_authenticator: bool
) -> bool:
    """Check a reply against its request; returns whether Message-Authenticator was present."""
    expected = _md5(_wire_with_auth(reply, request_authenticator), secret)
    if not hmac.compare_digest(expected, reply.authenticator):
        raise AuthenticatorMismatch("Response Authenticator does not match the request and secret")
    return _check_ma(reply, secret, request_authenticator, require_message_authenticator)


def length_of(packet: Packet) -> int:
    return int(struct.unpack_from("!H", packet.to_bytes(), 2)[0])


__all__ = [
    "HEADER",
    "message_authenticator",
    "sign_reply",
    "sign_request",
    "verify_reply",
    "verify_request",
]
