"""Turn an access point's request into the request sent to the identity provider.

What the ANP adds (OpenRoaming): Operator-Name ``4``+WBAID (RFC 5580, namespace 4 = WBAID), a CUI
request (a single NUL, RFC 4372) when the AP did not ask, RFC 5580 location when the site has one, and
WBA-Offered-Service. What it takes away: the AP's Message-Authenticator (signed again per hop) and
Proxy-State (kept to be echoed to the AP, RFC 2865 5.33). User-Password is hidden again for the new hop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from tsunagaru.radius import Packet, default_dictionary, encode
from tsunagaru.radius.hiding import hide_user_password, reveal_user_password
from tsunagaru.radius.packet import (
    CHARGEABLE_USER_IDENTITY,
    MESSAGE_AUTHENTICATOR,
    OPERATOR_NAME,
    PROXY_STATE,
    USER_PASSWORD,
)

LOCATION_INFORMATION = 127
LOCATION_DATA = 128


@dataclass(frozen=True, slots=True)
class Decoration:
    wbaid: str | None = None  # e.g. "TSUNAGARU:JP"
    offered_service: str | None = None  # e.g. "OpenRoaming Bronze"
    request_cui: bool = True


def decorate(
    request: Packet, ap_secret: bytes, upstream_secret: bytes, deco: Decoration, authenticator: bytes | None = None,
    location: tuple[bytes, bytes | None] | None = None,
) -> Packet:
    """The upstream request (identifier 0; the transport assigns one and signs it)."""
    new_auth = authenticator or os.urandom(16)
    attrs: list[tuple[int, bytes]] = []
    for t, v in request.attributes:
        if t in (MESSAGE_AUTHENTICATOR, PROXY_STATE):
            continue
        if t == USER_PASSWORD:
            plain = reveal_user_password(v, ap_secret, request.authenticator)
            v = hide_user_password(plain, upstream_secret, new_auth)
        if t == OPERATOR_NAME and deco.wbaid:
            continue  # we are the operator: our own Operator-Name replaces the AP's
        attrs.append((t, v))
    operator, service = _constant_attributes(deco)
    attrs.extend(operator)
    if deco.request_cui and not any(t == CHARGEABLE_USER_IDENTITY for t, _ in attrs):
        attrs.append((CHARGEABLE_USER_IDENTITY, b"\x00"))
    info, data = location or (None, None)  # the client's site location (clients[].location_*), if any
    if info and not any(t == LOCATION_INFORMATION for t, _ in attrs):
        attrs.append((LOCATION_INFORMATION, info))
        if data:
            attrs.append((LOCATION_DATA, data))
    attrs.extend(service)
    return Packet(request.code, 0, new_auth, tuple(attrs))


Attrs = tuple[tuple[int, bytes], ...]
#: id(decoration) -> (the decoration, its attributes); holding the decoration keeps its id from being reused
_CONSTANT: dict[int, tuple[Decoration, tuple[Attrs, Attrs]]] = {}


def _constant_attributes(deco: Decoration) -> tuple[Attrs, Attrs]:
    """Operator-Name and WBA-Offered-Service, encoded once per configuration, not per request. Looked up
    by identity: an lru_cache hashed the frozen dataclass (an interpreted ``__hash__``) twice a request."""
    hit = _CONSTANT.get(id(deco))
    if hit is not None and hit[0] is deco:
        return hit[1]
    operator: Attrs = ((OPERATOR_NAME, b"4" + deco.wbaid.encode("ascii")),) if deco.wbaid else ()
    service: Attrs = tuple(encode(default_dictionary(), "WBA-Offered-Service", deco.offered_service)) \
        if deco.offered_service else ()
    if len(_CONSTANT) >= 64:  # reloads make new decorations: bounded, the old ones are let go
        _CONSTANT.clear()
    _CONSTANT[id(deco)] = (deco, (operator, service))
    return operator, service
