"""What the EAP server asks of a user database, as questions the methods return (sans-IO).

The EAP methods never see SQL, a hash function's cost or a thread: when one needs a credential checked
it returns a :data:`CredentialQuery` (verify this password, look up this NT hash, check this
certificate's status) and waits; the adapter answers it with :meth:`CredentialStore.peek` when the
answer is in memory, or with :func:`resolve` in a worker thread when it needs a store read or a slow
hash, then resumes the method with the answer (hostapd's callback split, turned inside out). Every
answer carries a :class:`Verdict`, which the RADIUS front maps to a Reject-Reason (10 bad credentials,
11 unknown identity, 12 expired or revoked certificate).
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


@dataclass(frozen=True, slots=True)
class VerifyPassword:
    """PAP inside TTLS: is ``password`` the user's? Answered with a :class:`Verdict`."""

    username: str
    password: bytes

    def __repr__(self) -> str:  # never the password in a log line or a traceback
        return f"VerifyPassword(username={self.username!r}, password=<{len(self.password)} octets>)"


@dataclass(frozen=True, slots=True)
class LookupNtHash:
    """MSCHAPv2: the user's NT hash. Answered with an :class:`NtHashResult`."""

    username: str


@dataclass(frozen=True, slots=True)
class CheckCertificate:
    """EAP-TLS: the status of a client certificate (already verified against the user CA when
    ``chain_verified``). Answered with a :class:`Verdict`."""

    certificate: x509.Certificate
    chain_verified: bool


CredentialQuery = VerifyPassword | LookupNtHash | CheckCertificate
CredentialAnswer = Verdict | NtHashResult


class CredentialStore(Protocol):
    """The IdP's users as the adapter asks them. Usernames are the inner identity (``alice`` or
    ``alice@realm``); implementations decide how to normalise them. The three checks may block (a
    database read, a slow hash): the IdP calls them in worker threads, through :func:`resolve`."""

    def peek(self, query: CredentialQuery) -> CredentialAnswer | None:
        """The answer when it is in memory (a fresh cache entry), else None; never blocks."""
        ...

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


def resolve(store: CredentialStore, query: CredentialQuery) -> CredentialAnswer:
    """Answer ``query`` from ``store``; may block (call it in a worker thread from a server)."""
    if isinstance(query, VerifyPassword):
        return store.check_password(query.username, query.password)
    if isinstance(query, LookupNtHash):
        return store.nt_hash(query.username)
    return store.check_certificate(query.certificate, query.chain_verified)


def answer_now(store: CredentialStore, query: CredentialQuery) -> CredentialAnswer:
    """``peek``, else ``resolve`` on the calling thread: for synchronous drivers (tests, fuzzing, the
    in-process bench), never for an event loop."""
    found = store.peek(query)
    return resolve(store, query) if found is None else found


def as_verdict(answer: CredentialAnswer) -> Verdict:
    """The answer to a :class:`VerifyPassword` or :class:`CheckCertificate` (TypeError for anything else)."""
    if not isinstance(answer, Verdict):
        raise TypeError(f"a Verdict was due, not {type(answer).__name__}")
    return answer


def as_nt_hash(answer: CredentialAnswer) -> NtHashResult:
    """The answer to a :class:`LookupNtHash` (TypeError for anything else)."""
    if not isinstance(answer, NtHashResult):
        raise TypeError(f"an NtHashResult was due, not {type(answer).__name__}")
    return answer
