"""Certificate revocation lists: make them, and keep a fresh copy of a peer CA's list.

:class:`CrlSource` holds no socket and no clock. An adapter asks ``due(now)``, fetches the bytes however
it likes (HTTP, a file), and hands them to ``update(data, now)``; a failed fetch is reported with
``failed(now, why)`` so the next attempt comes sooner than the normal refresh. A list whose nextUpdate
has passed is *stale*: verification still applies the revocations it knows, and refuses only when the
operator asked for strict revocation checking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from tsunagaru.pki.build import BACKDATE, CertKey
from tsunagaru.pki.errors import MalformedInput
from tsunagaru.pki.names import as_utc
from tsunagaru.pki.pem import read_crls

#: How long a published CRL stays current (its nextUpdate).
DEFAULT_CRL_LIFETIME = timedelta(days=7)
#: After a failed fetch, try again this soon (or at the refresh interval if that is shorter).
RETRY_AFTER_FAILURE = timedelta(minutes=5)


def make_crl(
    issuer: CertKey,
    revoked: Iterable[tuple[int, datetime]],
    now: datetime,
    *,
    number: int,
    lifetime: timedelta = DEFAULT_CRL_LIFETIME,
) -> x509.CertificateRevocationList:
    """A CRL signed by ``issuer`` listing ``(serial, revocation time)`` pairs, valid until now+lifetime."""
    now = as_utc(now)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(now - BACKDATE)
        .next_update(now + lifetime)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    for serial, when in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        builder = builder.add_revoked_certificate(entry)
    algorithm = hashes.SHA384() if isinstance(issuer.key, ec.EllipticCurvePrivateKey) else hashes.SHA256()
    return builder.sign(issuer.key, algorithm)


def crl_number(crl: x509.CertificateRevocationList) -> int | None:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return None


def is_newer(candidate: x509.CertificateRevocationList, current: x509.CertificateRevocationList) -> bool:
    """Prefer the higher CRL number; without numbers, the later thisUpdate."""
    new_number, old_number = crl_number(candidate), crl_number(current)
    if new_number is not None and old_number is not None:
        return new_number > old_number
    return candidate.last_update_utc > current.last_update_utc


def is_stale(crl: x509.CertificateRevocationList, now: datetime) -> bool:
    next_update = crl.next_update_utc
    return next_update is not None and next_update < now


@dataclass
class CrlSource:
    """One CA's CRL as fetched from ``location`` every ``refresh`` (sooner when its nextUpdate comes)."""

    location: str
    refresh: timedelta = timedelta(hours=1)
    crl: x509.CertificateRevocationList | None = None
    fetched_at: datetime | None = None
    next_attempt: datetime | None = None
    last_error: str | None = None

    def due(self, now: datetime) -> bool:
        """Time to fetch again: never fetched, refresh interval over, nextUpdate reached, or retry time."""
        return self.next_attempt is None or as_utc(now) >= self.next_attempt

    def update(self, data: bytes, now: datetime) -> bool:
        """Take freshly fetched bytes (PEM or DER). Returns True when they replaced the held list; an
        older list than the one held is ignored (a replayed CRL must not un-revoke anything)."""
        now = as_utc(now)
        try:
            (candidate,) = read_crls(data)[:1]
        except MalformedInput as exc:
            self.failed(now, str(exc))
            raise
        self.fetched_at, self.last_error = now, None
        replaced = self.crl is None or is_newer(candidate, self.crl)
        if replaced:
            self.crl = candidate
        self.next_attempt = self._next_attempt(now)
        return replaced

    def failed(self, now: datetime, why: str) -> None:
        self.last_error = why
        self.next_attempt = as_utc(now) + min(self.refresh, RETRY_AFTER_FAILURE)

    def stale(self, now: datetime) -> bool:
        return self.crl is None or is_stale(self.crl, as_utc(now))

    def _next_attempt(self, now: datetime) -> datetime:
        when = now + self.refresh
        next_update = self.crl.next_update_utc if self.crl is not None else None  # an empty CRL is falsy
        if next_update is not None and next_update > now:
            when = min(when, next_update)
        elif next_update is not None:
            when = now + min(self.refresh, RETRY_AFTER_FAILURE)
        return when
