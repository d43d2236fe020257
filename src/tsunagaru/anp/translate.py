"""Turn the identity provider's reply into the reply for the access point.

Keys and passwords hidden with the upstream secret and request authenticator (MS-MPPE-Send/Recv-Key,
RFC 2548; Tunnel-Password, RFC 2868) are decrypted and encrypted again for the AP's secret and its
request. Local attributes (Tunnel-Type, Tunnel-Medium-Type, Tunnel-Private-Group-Id) coming from a
federation peer are stripped: a remote IdP must not choose our VLANs. State and EAP-Message pass as
they are; the AP's Proxy-State is echoed; Message-Authenticator and Response Authenticator are made
anew, Message-Authenticator first.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from tsunagaru.radius import Packet, sign_reply
from tsunagaru.radius.hiding import recrypt
from tsunagaru.radius.packet import MESSAGE_AUTHENTICATOR, PROXY_STATE, TUNNEL_PASSWORD, VENDOR_SPECIFIC

TUNNEL_TYPE, TUNNEL_MEDIUM_TYPE, TUNNEL_PRIVATE_GROUP_ID = 64, 65, 81
LOCAL_ONLY = frozenset({TUNNEL_TYPE, TUNNEL_MEDIUM_TYPE, TUNNEL_PRIVATE_GROUP_ID})
MICROSOFT = 311
MS_MPPE_SEND_KEY, MS_MPPE_RECV_KEY = 16, 17


def translate_reply(
    reply: Packet,
    upstream_secret: bytes,
    upstream_authenticator: bytes,
    ap_request: Packet,
    ap_secret: bytes,
    *,
    strip_local: bool = True,
) -> Packet:
    """The signed reply for the AP (its identifier, its authenticator, its secret)."""

    def hop(value: bytes, tagged: bool = False) -> bytes:
        return recrypt(value, upstream_secret, upstream_authenticator, ap_secret, ap_request.authenticator,
                       tagged=tagged)

    attrs: list[tuple[int, bytes]] = []
    for t, v in reply.attributes:
        if t in (MESSAGE_AUTHENTICATOR, PROXY_STATE) or (strip_local and t in LOCAL_ONLY):
            continue
        if t == TUNNEL_PASSWORD:
            v = hop(v, tagged=True)
        elif t == VENDOR_SPECIFIC and len(v) >= 6 and struct.unpack_from("!I", v)[0] == MICROSOFT:
            v = _recrypt_ms(v, hop)
        attrs.append((t, v))
    attrs.extend((PROXY_STATE, p) for p in ap_request.get_all(PROXY_STATE))
    out = Packet(reply.code, ap_request.identifier, ap_request.authenticator, tuple(attrs))
    return sign_reply(out, ap_request.authenticator, ap_secret)


def _recrypt_ms(value: bytes, hop: Callable[[bytes], bytes]) -> bytes:
    """Re-encrypt MS-MPPE keys inside one Microsoft VSA (which may hold several sub-attributes)."""
    out = bytearray(value[:4])
    pos = 4
    while pos + 2 <= len(value):
        sub_type, sub_len = value[pos], value[pos + 1]
        if sub_len < 2 or pos + sub_len > len(value):
            return value  # malformed: forward untouched rather than guess
        body = value[pos + 2 : pos + sub_len]
        if sub_type in (MS_MPPE_SEND_KEY, MS_MPPE_RECV_KEY):
            body = hop(body)
        out += bytes((sub_type, len(body) + 2)) + body
        pos += sub_len
    return bytes(out)
