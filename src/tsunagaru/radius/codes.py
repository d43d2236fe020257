"""RADIUS packet codes (RFC 2865, 2866, 5176, 5997) and which of them are requests."""

from __future__ import annotations

from enum import IntEnum


class Code(IntEnum):
    ACCESS_REQUEST = 1
    ACCESS_ACCEPT = 2
    ACCESS_REJECT = 3
    ACCOUNTING_REQUEST = 4
    ACCOUNTING_RESPONSE = 5
    ACCESS_CHALLENGE = 11
    STATUS_SERVER = 12
    STATUS_CLIENT = 13
    DISCONNECT_REQUEST = 40
    DISCONNECT_ACK = 41
    DISCONNECT_NAK = 42
    COA_REQUEST = 43
    COA_ACK = 44
    COA_NAK = 45


#: Requests whose Request Authenticator is random (RFC 2865 3, RFC 5997).
RANDOM_AUTHENTICATOR_REQUESTS = frozenset({Code.ACCESS_REQUEST, Code.STATUS_SERVER})
#: Requests whose Request Authenticator is an MD5 over the packet (RFC 2866 4.1, RFC 5176 2.3).
HASHED_AUTHENTICATOR_REQUESTS = frozenset(
    {Code.ACCOUNTING_REQUEST, Code.DISCONNECT_REQUEST, Code.COA_REQUEST, Code.STATUS_CLIENT}
)
REQUESTS = RANDOM_AUTHENTICATOR_REQUESTS | HASHED_AUTHENTICATOR_REQUESTS

#: The replies each request may get.
REPLIES: dict[int, frozenset[int]] = {
    Code.ACCESS_REQUEST: frozenset({Code.ACCESS_ACCEPT, Code.ACCESS_REJECT, Code.ACCESS_CHALLENGE}),
    Code.ACCOUNTING_REQUEST: frozenset({Code.ACCOUNTING_RESPONSE}),
    Code.STATUS_SERVER: frozenset({Code.ACCESS_ACCEPT, Code.ACCOUNTING_RESPONSE}),
    Code.DISCONNECT_REQUEST: frozenset({Code.DISCONNECT_ACK, Code.DISCONNECT_NAK}),
    Code.COA_REQUEST: frozenset({Code.COA_ACK, Code.COA_NAK}),
}


def code_name(code: int) -> str:
    """RFC name of a code (``Access-Request``), or ``Code-N`` for unknown ones."""
    try:
        return Code(code).name.replace("_", "-").title().replace("Coa", "CoA").replace("Ack", "ACK").replace(
            "Nak", "NAK"
        )
    except ValueError:
        return f"Code-{code}"


def is_request(code: int) -> bool:
    return code in REQUESTS
