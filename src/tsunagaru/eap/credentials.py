"""What the EAP server asks of a user database, and nothing more (hostapd's callback split).

The EAP methods never see SQL or RADIUS: the IdP hands them an object that satisfies
:class:`CredentialStore`. Every answer is a :class:`Verdict`, which the RADIUS front maps to a
Reject-Reason (10 bad credentials, 11 unknown identity, 12 expired certificate).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from cryptography import x509

from tsunagaru.radius.reasons import RejectReason


class Verdict(Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad-credentials"  # Reject-Reason 10
    UNKNOWN_USER = "unknown-user"  # Reject-Reason 11
    DISABLED = "disabled"  # Reject-Reason 10 (the user exists but may not log in)
    REVOKED = "revoked"  # Reject-Reason 12 family: certificate revoked
    EXPIRED = "expired"  # Reject-Reason 12
    METHOD_NOT_ALLOWED = "method-not-allowed"  # e.g. no NT hash stored: MSCHAPv2 is off for this user

    @property
    def reject_reason(self) -> int:
        """The WBA Reject-Reason (0 for OK)."""
        return _REASONS[self]


_REASONS = {
    Verdict.OK: 0,
    Verdict.BAD_CREDENTIALS: RejectReason.FAILED_AUTHENTICATION,
    Verdict.UNKNOWN_USER: RejectReason.INVALID_IDENTITY,
    Verdict.DISABLED: RejectReason.FAILED_AUTHENTICATION,
    Verdict.REVOKED: RejectReason.EXPIRED_CERTIFICATE,
    Verdict.EXPIRED: RejectReason.EXPIRED_CERTIFICATE,
    Verdict.METHOD_NOT_ALLOWED: RejectReason.FAILED_AUTHENTICATION,
}


@dataclass(frozen=True, slots=True)
class NtHashResult:
    verdict: Verdict
    nt_hash: bytes | None = None  # 16 octets, MD4(UTF-16LE(password)), only when verdict is OK


class CredentialStore(Protocol):
    """The IdP's users as the EAP methods see them. Usernames are the inner identity (``alice`` or
    ``alice@realm``); implementations decide how to normalise them."""

    def check_password(self, username: str, password: bytes) -> Verdict:
        """PAP (TTLS inner PAP): compare against a slow hash; OK, BAD_CREDENTIALS, UNKNOWN_USER, DISABLED."""
        ...

    def nt_hash(self, username: str) -> NtHashResult:
        """MSCHAPv2: the stored NT hash, or why there is none."""
        ...

    def check_certificate(self, certificate: x509.Certificate, chain_verified: bool) -> Verdict:
        """EAP-TLS: the client certificate (already verified against the user CA when ``chain_verified``);
        OK, REVOKED, EXPIRED, DISABLED or UNKNOWN_USER."""
        ...
