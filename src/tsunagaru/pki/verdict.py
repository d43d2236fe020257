"""The answer of a peer verification: a :class:`Reason`, a sentence for the operator, and the steps.

Every refusal has exactly one reason, so logs, metrics and the RADIUS layer can act on the token
(``reason.value``) while people read ``message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from cryptography import x509

from tsunagaru.pki.names import Role, common_name


class Reason(Enum):
    """Why a chain was accepted or refused; the value is a stable token for logs and metrics."""

    OK = "ok"
    EMPTY_CHAIN = "empty-chain"
    MALFORMED = "malformed"
    OWN_CERTIFICATE = "own-certificate"
    SELF_SIGNED = "self-signed"
    UNKNOWN_ROOT = "unknown-root"
    BAD_SIGNATURE = "bad-signature"
    NOT_A_CA = "not-a-ca"
    LEAF_IS_CA = "leaf-is-ca"
    PATH_TOO_LONG = "path-too-long"
    NOT_YET_VALID = "not-yet-valid"
    EXPIRED = "expired"
    MISSING_POLICY = "missing-policy"
    WRONG_USAGE = "wrong-usage"
    REVOKED = "revoked"
    CRL_UNAVAILABLE = "crl-unavailable"
    NAME_MISMATCH = "name-mismatch"


@dataclass(frozen=True)
class PeerIdentity:
    """Who the accepted peer is, as the federation names it (CN is for display only)."""

    wbaid: str | None
    common_name: str | None
    dns_names: tuple[str, ...]
    realms: tuple[str, ...]
    roles: tuple[Role, ...]
    sha256: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    reason: Reason
    message: str
    steps: tuple[str, ...] = ()
    path: tuple[x509.Certificate, ...] = field(default=(), repr=False)
    peer: PeerIdentity | None = None

    def explain(self) -> str:
        verdict = "ACCEPTED" if self.ok else f"REFUSED ({self.reason.value})"
        return "\n".join([*(f"  - {s}" for s in self.steps), f"{verdict}: {self.message}"])


class Refused(Exception):
    """Internal: ends a verification run with a reason (never escapes :func:`verify_peer`)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def label(cert: x509.Certificate, path: Sequence[x509.Certificate] = ()) -> str:
    """How messages name a certificate: its role on the path and its CN (or full subject)."""
    name = common_name(cert) or cert.subject.rfc4514_string() or "(empty subject)"
    if path and cert is path[0]:
        return f"the peer's certificate '{name}'"
    if path and cert is path[-1] and len(path) > 1 and cert.issuer == cert.subject:
        return f"root '{name}'"
    return f"intermediate CA '{name}'" if path else f"'{name}'"
