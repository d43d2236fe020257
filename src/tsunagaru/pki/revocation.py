"""Step 7 of peer verification: is any certificate on the path revoked by its issuer's CRL?

A CRL counts only when its issuer name matches AND its signature verifies with the issuer's key: a list
anyone could have written must neither revoke nor vouch. Without a usable CRL the check is skipped
(noted in the steps) unless ``require_crl`` is set, in which case the peer is refused. An out-of-date
CRL refuses the peer when ``require_crl`` is set or ``strict_stale`` (a CRL was configured for that
issuer, so "not fresh" must not quietly become "not checked").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import datetime

from cryptography import x509

from tsunagaru.pki.crl import CrlSource, is_newer, is_stale
from tsunagaru.pki.names import common_name
from tsunagaru.pki.verdict import Reason, Refused

CrlInput = x509.CertificateRevocationList | CrlSource
Labeller = Callable[[x509.Certificate, Sequence[x509.Certificate]], str]


def _lists(crls: Sequence[CrlInput]) -> list[x509.CertificateRevocationList]:
    out: list[x509.CertificateRevocationList] = []
    for item in crls:
        crl = item.crl if isinstance(item, CrlSource) else item
        if crl is not None:
            out.append(crl)
    return out


def issuer_crl(
    issuer: x509.Certificate, crls: Sequence[CrlInput], steps: list[str]
) -> x509.CertificateRevocationList | None:
    """The newest CRL signed by ``issuer``; lists that only claim its name are reported and ignored."""
    best: x509.CertificateRevocationList | None = None
    for crl in _lists(crls):
        if crl.issuer != issuer.subject:
            continue
        if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
            steps.append(f"ignored a CRL that names '{common_name(issuer)}' but is not signed by its key")
            continue
        if best is None or is_newer(crl, best):
            best = crl
    return best


def check_revocation(
    path: Sequence[x509.Certificate],
    crls: Sequence[CrlInput],
    now: datetime,
    require_crl: bool,
    steps: list[str],
    label: Labeller,
    strict_stale: bool = False,
) -> None:
    for cert, issuer in itertools.pairwise(path):
        crl = issuer_crl(issuer, crls, steps)
        issuer_name = common_name(issuer) or issuer.subject.rfc4514_string()
        if crl is None:
            if require_crl:
                raise Refused(
                    Reason.CRL_UNAVAILABLE,
                    f"no CRL from '{issuer_name}' is available, and revocation checking is required",
                )
            steps.append(f"no CRL from '{issuer_name}': revocation of {label(cert, path)} not checked")
            continue
        _check_one(cert, issuer_name, crl, now, require_crl or strict_stale, steps, label(cert, path))


def _check_one(
    cert: x509.Certificate,
    issuer_name: str,
    crl: x509.CertificateRevocationList,
    now: datetime,
    require_crl: bool,
    steps: list[str],
    who: str,
) -> None:
    if is_stale(crl, now):
        when = f"{crl.next_update_utc:%Y-%m-%d %H:%M} UTC"
        if require_crl:
            raise Refused(
                Reason.CRL_UNAVAILABLE,
                f"the CRL from '{issuer_name}' is out of date (next update was due {when}); "
                "fetch a fresh one",
            )
        steps.append(f"the CRL from '{issuer_name}' is out of date since {when}; its revocations still apply")
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is not None:
        raise Refused(
            Reason.REVOKED,
            f"{who} (serial {cert.serial_number:x}) was revoked by '{issuer_name}' on "
            f"{entry.revocation_date_utc:%Y-%m-%d %H:%M} UTC",
        )
    steps.append(f"{who} is not on the CRL of '{issuer_name}'")
