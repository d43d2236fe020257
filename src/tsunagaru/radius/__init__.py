"""Sans-IO RADIUS: packet codec, attribute registry, authenticators and attribute hiding.

The small API the rest of Tsunagaru uses::

    from tsunagaru.radius import Packet, Code, MalformedPacket, default_dictionary, encode, decode_packet
    pkt = Packet.from_bytes(datagram)                   # raises MalformedPacket only
    verify_request(pkt, secret, require_message_authenticator=True)
    reply = sign_reply(Packet(Code.ACCESS_ACCEPT, pkt.identifier), pkt.authenticator, secret)

Our own codec rather than pyrad underneath: about 2.3x pyrad's rate on a typical EAP Access-Request
(decode by name, verify, re-sign, encode) and byte-exact forwarding of unknown attributes; the figures
and how they were measured are in :mod:`tsunagaru.radius.packet` and ``bench/radius_codec.py``.
"""

from tsunagaru.radius.attributes import Attr, Secrets, decode_packet, encode, get_value
from tsunagaru.radius.auth import (
    message_authenticator,
    sign_reply,
    sign_request,
    verify_reply,
    verify_request,
)
from tsunagaru.radius.codes import Code, code_name, is_request
from tsunagaru.radius.dictionary import AttributeDef, Dictionary, default_dictionary, load_builtin
from tsunagaru.radius.errors import AuthenticatorMismatch, DictionaryError, MalformedPacket, RadiusError
from tsunagaru.radius.packet import Packet, eap_message, split_value, with_eap_message

__all__ = [
    "Attr",
    "AttributeDef",
    "AuthenticatorMismatch",
    "Code",
    "Dictionary",
    "DictionaryError",
    "MalformedPacket",
    "Packet",
    "RadiusError",
    "Secrets",
    "code_name",
    "decode_packet",
    "default_dictionary",
    "eap_message",
    "encode",
    "get_value",
    "is_request",
    "load_builtin",
    "message_authenticator",
    "sign_reply",
    "sign_request",
    "split_value",
    "verify_reply",
    "verify_request",
    "with_eap_message",
]
