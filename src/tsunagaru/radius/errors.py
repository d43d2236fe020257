"""Typed errors of the RADIUS core.

``MalformedPacket`` is the only exception a decoder raises: adapters catch it at one boundary and drop
the datagram (UDP) or close the connection (RadSec), as RFC 6614 asks.
"""

from __future__ import annotations


class RadiusError(Exception):
    """Base of every error raised by ``tsunagaru.radius``."""


class MalformedPacket(RadiusError):
    """Bytes that are not a valid RADIUS packet or attribute; ``reason`` says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthenticatorMismatch(RadiusError):
    """A Request/Response Authenticator or Message-Authenticator did not verify."""


class DictionaryError(RadiusError):
    """A dictionary file or an attribute name/value that the registry cannot use."""

    def __init__(self, reason: str, *, source: str = "", line: int = 0) -> None:
        where = f"{source}:{line}: " if source else ""
        super().__init__(f"{where}{reason}")
        self.reason = reason
        self.source = source
        self.line = line
