"""Typed errors of the RadSec transport, each mapped to one outcome at the adapter boundary.

::

    RadSecError
    ├── ProtocolViolation      -> the connection is closed (RFC 6614 2.5: malformed packet, bad
    │   ├── FramingError          Message-Authenticator, bad authenticator, unexpected packet)
    ├── PeerRefused            -> the TLS peer failed a certificate policy check; connection closed
    ├── RequestTimeout         -> no reply within the per-request time; the caller decides (failover)
    ├── ConnectionClosed       -> the connection went away while a request was waiting
    ├── IdentifiersExhausted   -> 255 requests are in flight on one connection; use another one
    └── PeerUnavailable        -> the pool cannot reach the peer now (connect failed, in back-off)
"""

from __future__ import annotations


class RadSecError(Exception):
    """Base of every error raised by ``tsunagaru.radsec``."""


class ProtocolViolation(RadSecError):
    """The peer sent something that forbids keeping the connection open."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FramingError(ProtocolViolation):
    """A frame's length field is outside 20..4096 or the packet inside it does not decode."""


class PeerRefused(RadSecError):
    """The ``verify_peer`` hook refused the TLS peer after the handshake."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RequestTimeout(RadSecError):
    """No reply arrived within the request's time; over TLS there is no retransmission."""


class ConnectionClosed(RadSecError):
    """The connection is closed (by us after a violation, by the peer, or by an idle timeout)."""


class IdentifiersExhausted(RadSecError):
    """Every RADIUS identifier of this connection is in use or quarantined."""


class PeerUnavailable(RadSecError):
    """The pool has no usable connection to the peer (connect failed or waiting in back-off)."""
