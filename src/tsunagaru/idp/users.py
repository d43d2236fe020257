"""Operations on the IdP's users: add, list, disable, enable, set password, certificates.

Each function works inside a caller's :class:`~sqlalchemy.orm.Session` (one transaction), takes
``now`` rather than reading the clock, and raises a :class:`UserError` subclass for what an operator
got wrong. Passwords are hashed here and never logged; the NT hash exists only for MSCHAPv2 users
(see :mod:`tsunagaru.idp.passwords` for why).
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from tsunagaru.idp.passwords import ScryptParams, hash_password, nt_hash
from tsunagaru.idp.user_ca import UserCA
from tsunagaru.logs import redact
from tsunagaru.store.idp_tables import User, UserCertificate

log = logging.getLogger(__name__)

MAX_NAME = 253


class UserError(Exception):
    """An operation on users that cannot be done as asked."""


class UnknownUser(UserError):
    pass


class UserExists(UserError):
    pass


class InvalidUsername(UserError):
    pass


@dataclass(frozen=True, slots=True)
class UserInfo:
    username: str
    realm: str
    enabled: bool
    has_password: bool
    mschapv2: bool
    active_certificates: int
    created_at: datetime
    updated_at: datetime

    @property
    def nai(self) -> str:
        return f"{self.username}@{self.realm}"

    def to_json(self) -> dict[str, object]:
        return {
            "username": self.username,
            "realm": self.realm,
            "enabled": self.enabled,
            "password": self.has_password,
            "mschapv2": self.mschapv2,
            "active_certificates": self.active_certificates,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    username: str
    serial: str
    fingerprint_sha256: str
    subject: str
    not_before: datetime
    not_after: datetime
    revoked_at: datetime | None


def split_identity(identity: str) -> tuple[str, str | None]:
    """``alice@Realm`` -> (``alice``, ``realm``); ``alice`` -> (``alice``, None). Realms are case-blind."""
    local, at, realm = identity.rpartition("@")
    if not at:
        return identity, None
    return local, realm.lower()


def _validate(name: str, what: str) -> str:
    if not name or len(name) > MAX_NAME or any(ch.isspace() or ord(ch) < 0x20 for ch in name):
        raise InvalidUsername(f"invalid {what} {name!r}")
    return name


def _parse_user(identity: str, realm: str | None) -> tuple[str, str]:
    local, given_realm = split_identity(identity)
    if given_realm is not None and realm is not None and given_realm != realm.lower():
        raise InvalidUsername(f"{identity!r} names realm {given_realm!r}, not {realm.lower()!r}")
    chosen = given_realm or (realm.lower() if realm else None)
    if chosen is None:
        raise InvalidUsername(f"{identity!r} has no realm: write USER@REALM or give a realm")
    return _validate(local, "username"), _validate(chosen, "realm")


@functools.lru_cache(maxsize=4096)
def certificate_serial(certificate: x509.Certificate) -> str:
    return format(certificate.serial_number, "x")


@functools.lru_cache(maxsize=4096)
def certificate_fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER, hex: the store's key. Cached (bounded): every EAP-TLS login asks for it."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def find_user(session: Session, identity: str) -> User | None:
    """The user named by ``identity``: ``alice@realm`` exactly; a bare ``alice`` only while one realm has
    an alice (usernames are unique per realm, so a bare name may be ambiguous: then nobody is found)."""
    local, realm = split_identity(identity)
    query = select(User).where(User.username == local)
    if realm is not None:
        return session.scalar(query.where(User.realm == realm))
    found = list(session.scalars(query.limit(2)))
    return found[0] if len(found) == 1 else None


def _get(session: Session, identity: str) -> User:
    user = find_user(session, identity)
    if user is None:
        raise UnknownUser(f"no user {identity!r}")
    return user


def _info(user: User) -> UserInfo:
    active = sum(1 for cert in user.certificates if cert.revoked_at is None)
    return UserInfo(
        username=user.username,
        realm=user.realm,
        enabled=user.enabled,
        has_password=user.password_hash is not None,
        mschapv2=user.mschapv2_enabled,
        active_certificates=active,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def _apply_password(user: User, password: str | None, mschapv2: bool, params: ScryptParams | None) -> None:
    if mschapv2 and password is None:
        raise UserError("MSCHAPv2 needs the password itself: set one together with --mschapv2")
    if password is not None:
        user.password_hash = hash_password(password, params)
    user.mschapv2_enabled = mschapv2
    user.nt_hash = nt_hash(password) if mschapv2 and password is not None else None


def add_user(
    session: Session,
    username: str,
    *,
    now: datetime,
    password: str | None = None,
    realm: str | None = None,
    mschapv2: bool = False,
    params: ScryptParams | None = None,
) -> UserInfo:
    """Add ``username`` (``alice@realm``, or ``alice`` with ``realm``); MSCHAPv2 requires a password."""
    local, user_realm = _parse_user(username, realm)
    if session.scalar(select(User).where(User.username == local, User.realm == user_realm)) is not None:
        raise UserExists(f"user {local}@{user_realm} exists")
    user = User(username=local, realm=user_realm, enabled=True, created_at=now, updated_at=now)
    _apply_password(user, password, mschapv2, params)
    session.add(user)
    session.flush()
    log.info("user added: %s (mschapv2 %s)", redact(f"{local}@{user_realm}"), "on" if mschapv2 else "off")
    return _info(user)


def get_user(session: Session, username: str) -> UserInfo:
    return _info(_get(session, username))


def list_users(session: Session) -> list[UserInfo]:
    users = session.scalars(select(User).order_by(User.realm, User.username))
    return [_info(user) for user in users]


def _set_enabled(session: Session, username: str, enabled: bool, now: datetime) -> UserInfo:
    user = _get(session, username)
    user.enabled = enabled
    user.updated_at = now
    log.info("user %s: %s", "enabled" if enabled else "disabled", redact(f"{user.username}@{user.realm}"))
    return _info(user)


def disable_user(session: Session, username: str, *, now: datetime) -> UserInfo:
    """Refuse every method for the user (certificates included) without deleting anything."""
    return _set_enabled(session, username, False, now)


def enable_user(session: Session, username: str, *, now: datetime) -> UserInfo:
    return _set_enabled(session, username, True, now)


def set_password(
    session: Session,
    username: str,
    password: str,
    *,
    now: datetime,
    mschapv2: bool | None = None,
    params: ScryptParams | None = None,
) -> UserInfo:
    """Replace the password; ``mschapv2`` None keeps the user's current choice."""
    user = _get(session, username)
    _apply_password(user, password, user.mschapv2_enabled if mschapv2 is None else mschapv2, params)
    user.updated_at = now
    log.info("password set: %s (mschapv2 %s)", redact(f"{user.username}@{user.realm}"),
             "on" if user.mschapv2_enabled else "off")
    return _info(user)


def disable_mschapv2(session: Session, username: str, *, now: datetime) -> UserInfo:
    """Opt out of MSCHAPv2: the stored NT hash (a password equivalent) is erased."""
    user = _get(session, username)
    user.mschapv2_enabled = False
    user.nt_hash = None
    user.updated_at = now
    return _info(user)


def _cert_info(cert: UserCertificate) -> CertificateInfo:
    return CertificateInfo(
        username=cert.user.username,
        serial=cert.serial,
        fingerprint_sha256=cert.fingerprint_sha256,
        subject=cert.subject,
        not_before=cert.not_before,
        not_after=cert.not_after,
        revoked_at=cert.revoked_at,
    )


def record_certificate(
    session: Session, username: str, certificate: x509.Certificate, *, now: datetime
) -> CertificateInfo:
    """Remember a certificate issued to the user: EAP-TLS accepts only certificates recorded here."""
    user = _get(session, username)
    row = UserCertificate(
        serial=certificate_serial(certificate),
        fingerprint_sha256=certificate_fingerprint(certificate),
        subject=certificate.subject.rfc4514_string(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        revoked_at=None,
        created_at=now,
    )
    user.certificates.append(row)
    session.flush()
    log.info("certificate recorded: %s serial %s", redact(f"{user.username}@{user.realm}"), row.serial)
    return _cert_info(row)


def issue_certificate(
    session: Session, ca: UserCA, username: str, *, days: int, now: datetime
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Issue a client certificate from the user CA to an enabled user and record it."""
    user = _get(session, username)
    if not user.enabled:
        raise UserError(f"user {user.username!r} is disabled")
    cert, key = ca.issue(f"{user.username}@{user.realm}", days, now)
    record_certificate(session, user.username, cert, now=now)
    return cert, key


def list_certificates(session: Session, username: str) -> list[CertificateInfo]:
    return [_cert_info(cert) for cert in _get(session, username).certificates]


def revoke_certificate(
    session: Session, *, now: datetime, serial: str | None = None, fingerprint: str | None = None
) -> int:
    """Revoke the certificate(s) with this serial (hex) or SHA-256 fingerprint; returns how many."""
    if (serial is None) == (fingerprint is None):
        raise UserError("name a certificate by serial or by fingerprint")
    query = select(UserCertificate).where(UserCertificate.revoked_at.is_(None))
    if serial is not None:
        query = query.where(UserCertificate.serial == format(_hex_int(serial), "x"))
    else:
        query = query.where(UserCertificate.fingerprint_sha256 == _hex_text(fingerprint or ""))
    return _revoke(list(session.scalars(query)), now)


def _hex_text(text: str) -> str:
    """Hex as operators paste it (``AB:CD``, ``0xabcd``) in the stored form: lower case, no separators."""
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "")
    _hex_int(cleaned)
    return cleaned


def _hex_int(text: str) -> int:
    try:
        return int(text.strip().lower().removeprefix("0x").replace(":", ""), 16)
    except ValueError as exc:
        raise UserError(f"{text!r} is not hexadecimal") from exc


def revoke_user_certificates(session: Session, username: str, *, now: datetime) -> int:
    """Revoke every certificate of the user that is not revoked yet; returns how many."""
    user = _get(session, username)
    return _revoke([cert for cert in user.certificates if cert.revoked_at is None], now)


def _revoke(certs: list[UserCertificate], now: datetime) -> int:
    for cert in certs:
        cert.revoked_at = now
        log.info("certificate revoked: serial %s", cert.serial)
    return len(certs)
