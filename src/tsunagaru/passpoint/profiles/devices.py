"""Per-device credentials in the IdP's store, in the shape the profile builders take.

The one module of this package that touches the store: it calls the IdP's own operations
(:mod:`tsunagaru.idp.users`, :class:`tsunagaru.idp.user_ca.UserCA`) inside the caller's session, so
the portal gets a credential that the running IdP accepts at once. Every device is its own IdP user
with a random name (``d-`` and 20 hex digits, unlinkable to the person), so revoking or renewing one
device is disabling or replacing one user, and no profile carries anything about its owner.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from cryptography import x509
from sqlalchemy.orm import Session

from tsunagaru.idp import users
from tsunagaru.idp.user_ca import UserCA
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    EapMethod,
    InnerMethod,
    PasswordCredential,
    ProfileError,
    check_fqdn,
)

PASSWORD_BYTES = 18  # 24 URL-safe characters, 144 bits


def new_device_username() -> str:
    return "d-" + secrets.token_hex(10)


def new_password_device(
    session: Session,
    *,
    realm: str,
    now: datetime,
    days: int,
    method: EapMethod = EapMethod.TTLS,
    inner: InnerMethod = InnerMethod.MSCHAPV2,
) -> PasswordCredential:
    """A new IdP user with a random name and password, for TTLS (PAP or MSCHAPv2) or PEAP.

    MSCHAPv2 is enabled when the method needs it (PEAP, TTLS/MSCHAPv2), which stores the NT hash.
    ``expires_at`` is ``now + days``: the store has no expiry of its own, so the portal disables the
    user when it passes (and renews the device before that).
    """
    realm = check_fqdn(realm, "realm")
    if method is EapMethod.TLS:
        raise ProfileError("use new_certificate_device for EAP-TLS")
    if days < 1:
        raise ProfileError("a credential lasts at least one day")
    credential = PasswordCredential(f"{new_device_username()}@{realm}", secrets.token_urlsafe(PASSWORD_BYTES),
                                    method, inner, expires_at=now + timedelta(days=days))
    mschapv2 = method is EapMethod.PEAP or inner is InnerMethod.MSCHAPV2
    users.add_user(session, credential.username, now=now, password=credential.password, mschapv2=mschapv2)
    return credential


def issue_device_certificate(
    session: Session, ca: UserCA, username: str, *, days: int, now: datetime
) -> CertificateCredential:
    """A client certificate from the IdP's user CA for an existing, enabled IdP user (recorded in the
    store, so EAP-TLS accepts it; revoked with :func:`tsunagaru.idp.users.revoke_certificate`)."""
    cert, key = users.issue_certificate(session, ca, username, days=days, now=now)
    info = users.get_user(session, username)
    return CertificateCredential(info.nai, cert, key, (ca.certificate,))


def new_certificate_device(
    session: Session, ca: UserCA, *, realm: str, now: datetime, days: int
) -> CertificateCredential:
    """A new IdP user without a password and an EAP-TLS certificate for it."""
    realm = check_fqdn(realm, "realm")
    username = f"{new_device_username()}@{realm}"
    users.add_user(session, username, now=now)
    return issue_device_certificate(session, ca, username, days=days, now=now)


def load_cas(pem: bytes) -> tuple[x509.Certificate, ...]:
    """The CA certificates in a PEM bundle (such as the demo's ``ca.pem``), in file order."""
    try:
        cas = tuple(x509.load_pem_x509_certificates(pem))
    except ValueError as exc:
        raise ProfileError(f"not a PEM certificate bundle: {exc}") from exc
    return cas


def revoke_device(session: Session, username: str, *, now: datetime) -> int:
    """Refuse a device from now on: disable its IdP user and revoke every certificate it holds.

    Returns how many certificates were revoked. The running IdP sees it when its lookup cache entry
    expires (``cache_ttl``, at most 60 s). Idempotent: revoking a revoked device changes nothing.
    """
    users.disable_user(session, username, now=now)
    return users.revoke_user_certificates(session, username, now=now)
