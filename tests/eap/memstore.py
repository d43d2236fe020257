"""An in-memory CredentialStore for the EAP tests (the real one lives in tsunagaru.idp.store)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.x509.oid import NameOID

from tsunagaru.eap.credentials import CredentialAnswer, CredentialQuery, NtHashResult, Verdict
from tsunagaru.eap.mschapv2_crypto import nt_password_hash


@dataclass
class MemStore:
    passwords: dict[str, str] = field(default_factory=dict)
    revoked_serials: set[int] = field(default_factory=set)
    certificate_users: set[str] = field(default_factory=set)

    def peek(self, query: CredentialQuery) -> CredentialAnswer | None:
        return None  # no cache: every question is "resolved" (synchronously, in these tests)

    def check_password(self, username: str, password: bytes) -> Verdict:
        known = self.passwords.get(username)
        if known is None:
            return Verdict.UNKNOWN_USER
        return Verdict.OK if hmac.compare_digest(known.encode(), password) else Verdict.BAD_CREDENTIALS

    def nt_hash(self, username: str) -> NtHashResult:
        known = self.passwords.get(username)
        if known is None:
            return NtHashResult(Verdict.UNKNOWN_USER)
        return NtHashResult(Verdict.OK, nt_password_hash(known))

    def check_certificate(self, certificate: x509.Certificate, chain_verified: bool) -> Verdict:
        if not chain_verified:
            return Verdict.BAD_CREDENTIALS
        if certificate.serial_number in self.revoked_serials:
            return Verdict.REVOKED
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cn = str(names[0].value) if names else ""
        return Verdict.OK if cn in self.certificate_users else Verdict.UNKNOWN_USER
