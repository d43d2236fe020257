"""WBA Reject-Reason codes and the Access-Reject that carries them, for the ANP and the IdP alike.

The reason travels in Reply-Message as ``text NUL "Reject-Reason=NN"`` so that people see the text and
devices or logs can read the code. This is the one place that numbers them and builds that message.
"""

from __future__ import annotations

from enum import IntEnum

from tsunagaru.radius import Code, Packet
from tsunagaru.radius.packet import EAP_MESSAGE, REPLY_MESSAGE, split_value


class RejectReason(IntEnum):
    FAILED_AUTHENTICATION = 10
    INVALID_IDENTITY = 11
    EXPIRED_CERTIFICATE = 12
    GENERIC_AAA_FAILURE = 20
    BACKEND_FAILURE = 21
    PROTOCOL_TIMEOUT = 22
    BAD_REQUEST = 30
    NO_SUBSCRIPTION = 41
    ROAMING_NOT_ALLOWED = 42


def reply_message(reason: int, text: str) -> bytes:
    """``text NUL Reject-Reason=NN``; the text is cut to 200 octets so the whole fits one attribute."""
    return text.encode("utf-8")[:200] + b"\x00" + f"Reject-Reason={int(reason)}".encode()


def access_reject(request: Packet, reason: int, text: str, eap: bytes | None = None) -> Packet:
    """An unsigned Access-Reject for ``request`` (sign it with ``sign_reply`` for the client's secret).

    With ``eap`` the reject also carries that EAP packet (RFC 3579 2.6.3: an EAP conversation ends with
    EAP-Failure), split over EAP-Message attributes."""
    attrs: tuple[tuple[int, bytes], ...] = ((REPLY_MESSAGE, reply_message(reason, text)),)
    if eap is not None:
        attrs += tuple(split_value(EAP_MESSAGE, eap))
    return Packet(Code.ACCESS_REJECT, request.identifier, request.authenticator, attrs)


def parse_reject_reason(value: bytes) -> int | None:
    """The code in a Reply-Message written by :func:`reply_message`, or None."""
    _, _, tail = value.partition(b"\x00")
    if tail.startswith(b"Reject-Reason="):
        digits = tail[len(b"Reject-Reason="):]
        if digits.isdigit():
            return int(digits)
    return None
