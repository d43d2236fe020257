"""The enrolment flows over the store: sign-up codes, sessions, devices (each one an IdP user), profile
links, renewal, and what city staff may do. Every method is one transaction (nothing half-stored when it
raises) and takes ``now``; mail goes out inside the transaction, so a code that could not be mailed is
not kept.

A device's IdP user is made by :mod:`tsunagaru.passpoint.profiles.devices` (a random name in the IdP
realm): TTLS/PEAP devices get a random password with MSCHAPv2 enabled (Apple and Windows need it inside
TTLS; PEAP carries nothing else); EAP-TLS devices get a certificate from the IdP's user CA, recorded in
the IdP store. Revoking a device
disables that user and revokes its certificates: the IdP's credential store sees it within its cache TTL
(at most 60 s, see :mod:`tsunagaru.idp.store`).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tsunagaru.idp import users
from tsunagaru.idp.user_ca import UserCA, UserCAError
from tsunagaru.logs import redact
from tsunagaru.passpoint.profiles import devices
from tsunagaru.passpoint.profiles.model import DeviceCredential
from tsunagaru.sites import audit
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.store import Store
from tsunagaru.store.enrol_tables import EnrolAccount, EnrolCode, EnrolDevice, EnrolToken
from tsunagaru.web.enrol import errors, rules
from tsunagaru.web.enrol.messages import Catalogs
from tsunagaru.web.enrol.platforms import KINDS, Method, Platform, parse_method, parse_platform
from tsunagaru.web.enrol.sealing import SealError, seal, unseal

log = logging.getLogger(__name__)

STAFF_ROLES = frozenset({Role.CITY_ADMIN})  # the people who manage residents' and visitors' accounts


@dataclass(frozen=True, slots=True)
class BuiltProfile:
    content_type: str
    filename: str
    data: bytes = field(repr=False)


ProfileMaker = Callable[[Platform, DeviceCredential], BuiltProfile]
Mailer = Callable[[str, str, str], None]  # to, subject, body


@dataclass(frozen=True, slots=True)
class EnrolSettings:
    realm: str
    secret: bytes  # keys the code hashes and the client-address hashes
    user_ca_dir: Path | None = None  # user-ca.pem/.key for EAP-TLS; None: TLS is not offered
    limits: rules.Limits = field(default_factory=rules.Limits)
    portal_url: str = "http://127.0.0.1:8080/enrol/"


@dataclass(frozen=True, slots=True)
class DeviceView:
    id: int
    name: str
    platform: str
    method: str
    username: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoke_at: datetime | None
    replaced_by: int | None

    @property
    def live(self) -> bool:
        return self.revoked_at is None

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "platform": self.platform, "method": self.method,
                "username": self.username, "created_at": self.created_at.isoformat(),
                "expires_at": self.expires_at.isoformat(),
                "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
                "revoke_at": None if self.revoke_at is None else self.revoke_at.isoformat(),
                "replaced_by": self.replaced_by}


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    email: str
    lang: str
    enabled: bool
    devices: tuple[DeviceView, ...]


@dataclass(frozen=True, slots=True)
class Issued:
    """A new device: its credential (the password shown once) and a one-time profile link token."""

    device: DeviceView
    password: str | None = field(repr=False)
    profile_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class SignedIn:
    account_id: int
    email: str
    lang: str
    token: str = field(repr=False)


class EnrolService:
    def __init__(self, store: Store, settings: EnrolSettings, mailer: Mailer, make_profile: ProfileMaker,
                 catalogs: Catalogs) -> None:
        self.store = store
        self.settings = settings
        self.mailer = mailer
        self.make_profile = make_profile
        self.catalogs = catalogs

    @property
    def limits(self) -> rules.Limits:
        return self.settings.limits

    @property
    def offers_tls(self) -> bool:
        return self.settings.user_ca_dir is not None

    # --- sign-up -------------------------------------------------------------------------------------

    def start(self, email_text: str, lang: str, source: str, now: datetime) -> None:
        """Mail a fresh code to the address (older unused codes stop working)."""
        try:
            email = rules.normalise_email(email_text)
        except rules.InvalidEmail as exc:
            raise errors.BadEmail() from exc
        lang = self.catalogs.pick(lang)
        source_hash = rules.keyed_hash(self.settings.secret, "source", source)
        since = now - self.limits.window
        with self.store.session() as s:
            account = s.scalar(select(EnrolAccount).where(EnrolAccount.email == email))
            if account is not None and not account.enabled:
                raise errors.AccountDisabled()
            to_email = s.scalar(select(func.count()).select_from(EnrolCode)
                                .where(EnrolCode.email == email, EnrolCode.created_at > since)) or 0
            from_source = s.scalar(select(func.count()).select_from(EnrolCode)
                                   .where(EnrolCode.source == source_hash, EnrolCode.created_at > since)) or 0
            if not rules.may_send_code(to_email, from_source, self.limits):
                log.info("sign-up code refused: rate limit (%s)", "address" if to_email else "source")
                raise errors.RateLimited()
            for old in s.scalars(select(EnrolCode).where(EnrolCode.email == email, EnrolCode.used_at.is_(None))):
                old.used_at = now
            code = rules.new_code()
            s.add(EnrolCode(email=email, source=source_hash, lang=lang, attempts=0, created_at=now,
                            expires_at=now + self.limits.code_ttl,
                            code_hash=rules.keyed_hash(self.settings.secret, "code", email, code)))
            s.flush()
            minutes = int(self.limits.code_ttl.total_seconds() // 60)
            body = self.catalogs.text(lang, "Your sign-up code is %(code)s. It works for %(minutes)d minutes. "
                                      "If you did not ask for it, ignore this message.") % {"code": code,
                                                                                             "minutes": minutes}
            try:
                self.mailer(email, self.catalogs.text(lang, "Your Tsunagaru Wi-Fi sign-up code"), body + "\n")
            except Exception as exc:
                raise errors.MailFailed() from exc
        log.info("sign-up code mailed to %s", redact(email))

    def verify(self, email_text: str, code_text: str, kind: str, now: datetime) -> SignedIn:
        """Check the newest code for the address; a wrong guess counts even though it raises."""
        try:
            email = rules.normalise_email(email_text)
        except rules.InvalidEmail as exc:
            raise errors.BadEmail() from exc
        code = rules.clean_code(code_text)
        failure: errors.EnrolError | None = None
        with self.store.session() as s:
            row = s.scalar(select(EnrolCode).where(EnrolCode.email == email).order_by(EnrolCode.id.desc()).limit(1))
            if row is None:
                raise errors.CodeWrong()
            if row.used_at is not None:
                raise errors.CodeUsed()
            if row.expires_at <= now:
                raise errors.CodeExpired()
            if row.attempts >= self.limits.code_attempts:
                raise errors.TooManyAttempts()
            good = code is not None and secrets.compare_digest(
                row.code_hash, rules.keyed_hash(self.settings.secret, "code", email, code))
            if not good:
                row.attempts += 1
                failure = errors.TooManyAttempts() if row.attempts >= self.limits.code_attempts else errors.CodeWrong()
            else:
                row.used_at = now
                account = s.scalar(select(EnrolAccount).where(EnrolAccount.email == email))
                if account is None:
                    account = EnrolAccount(email=email, lang=row.lang, enabled=True, created_at=now)
                    s.add(account)
                    s.flush()
                account.lang = row.lang
                if not account.enabled:
                    raise errors.AccountDisabled()
                ttl = self.limits.session_ttl if kind == "session" else self.limits.api_token_ttl
                token = self._new_token(s, kind, account.id, now, ttl)
                signed = SignedIn(account.id, account.email, account.lang, token)
        if failure is not None:
            raise failure
        log.info("signed in: %s", redact(email))
        return signed

    def _new_token(self, s: Session, kind: str, account_id: int, now: datetime, ttl: timedelta,
                   device_id: int | None = None) -> str:
        token = rules.new_token()
        s.add(EnrolToken(digest=rules.token_digest(token), kind=kind, account_id=account_id, device_id=device_id,
                         created_at=now, expires_at=now + ttl))
        return token

    def account_for(self, token: str | None, kind: str, now: datetime) -> AccountView:
        """The signed-in account behind a session cookie or an API bearer token."""
        if not token or len(token) > 128:
            raise errors.NotSignedIn()
        with self.store.session() as s:
            row = s.scalar(select(EnrolToken).where(EnrolToken.digest == rules.token_digest(token),
                                                    EnrolToken.kind == kind))
            if row is None or row.expires_at <= now:
                raise errors.NotSignedIn()
            account = s.get(EnrolAccount, row.account_id)
            if account is None:
                raise errors.NotSignedIn()
            if not account.enabled:
                raise errors.AccountDisabled()
            return _account_view(account, self.settings.realm)

    def sign_out(self, token: str) -> None:
        with self.store.session() as s:
            s.execute(delete(EnrolToken).where(EnrolToken.digest == rules.token_digest(token)))

    # --- devices -------------------------------------------------------------------------------------

    def methods_for(self, platform: Platform) -> tuple[Method, ...]:
        return tuple(m for m in KINDS[platform].methods if m is not Method.TLS or self.offers_tls)

    def add_device(self, account_id: int, platform_text: str, method_text: str, name: str,
                   now: datetime) -> Issued:
        platform = parse_platform(platform_text)
        if platform is None:
            raise errors.UnknownPlatform()
        method = parse_method(method_text)
        if method is None:
            raise errors.UnknownMethod()
        if method not in self.methods_for(platform):
            raise errors.MethodNotOffered()
        with self.store.session() as s:
            account = self._live_account(s, account_id)
            return self._issue(s, account, platform, method, name, now)

    def _live_account(self, s: Session, account_id: int) -> EnrolAccount:
        account = s.get(EnrolAccount, account_id)
        if account is None:
            raise errors.NotSignedIn()
        if not account.enabled:
            raise errors.AccountDisabled()
        return account

    def _issue(self, s: Session, account: EnrolAccount, platform: Platform, method: Method, name: str,
               now: datetime) -> Issued:
        live = sum(1 for d in account.devices if d.revoked_at is None and d.revoke_at is None)
        if live >= self.limits.max_devices:
            raise errors.TooManyDevices()
        serial: str | None = None
        credential: DeviceCredential
        if method is Method.TTLS:
            credential = devices.new_password_device(s, realm=self.settings.realm, now=now,
                                                     days=self.limits.device_days)
            password: str | None = credential.password
            expires = credential.expires_at or now + timedelta(days=self.limits.device_days)
        else:
            credential = devices.new_certificate_device(s, self._user_ca(), realm=self.settings.realm, now=now,
                                                        days=self.limits.device_days)
            password, expires = None, credential.expires_at
            serial = users.certificate_serial(credential.certificate)
        local = credential.username.rpartition("@")[0]
        label = rules.device_name(name, platform.value)
        device = EnrolDevice(account_id=account.id, name=label, platform=platform.value, method=method.value,
                             idp_username=local, cert_serial=serial, created_at=now, expires_at=expires)
        s.add(device)
        s.flush()
        try:
            profile = self.make_profile(platform, credential)
        except ValueError as exc:  # ProfileError: the transaction (IdP user, device) rolls back
            log.error("profile for %s not built: %s", platform.value, exc)
            raise errors.ProfileFailed() from exc
        token = rules.new_token()
        s.add(EnrolToken(digest=rules.token_digest(token), kind="profile", account_id=account.id,
                         device_id=device.id, created_at=now, expires_at=now + self.limits.profile_link_ttl,
                         content_type=profile.content_type, filename=profile.filename,
                         payload=seal(token, profile.data)))
        s.flush()
        log.info("device %d added (%s, %s) for %s", device.id, platform.value, method.value, redact(account.email))
        return Issued(_device_view(device, self.settings.realm), password, token)

    def _user_ca(self) -> UserCA:
        if self.settings.user_ca_dir is None:
            raise errors.MethodNotOffered()
        try:
            return UserCA.load(self.settings.user_ca_dir)
        except UserCAError as exc:
            log.error("user CA unavailable: %s", exc)
            raise errors.MethodNotOffered() from exc

    def fetch_profile(self, token: str, now: datetime) -> BuiltProfile:
        """The profile behind a link, once: the sealed bytes are erased as they are handed out."""
        if not token or len(token) > 128:
            raise errors.LinkInvalid()
        with self.store.session() as s:
            row = s.scalar(select(EnrolToken).where(EnrolToken.digest == rules.token_digest(token),
                                                    EnrolToken.kind == "profile"))
            if row is None:
                raise errors.LinkInvalid()
            if row.used_at is not None or row.payload is None:
                raise errors.LinkUsed()
            if row.expires_at <= now:
                raise errors.LinkExpired()  # the sweep erases its payload
            device = s.get(EnrolDevice, row.device_id) if row.device_id is not None else None
            account = s.get(EnrolAccount, row.account_id)
            if device is None or device.revoked_at is not None:
                raise errors.DeviceRevoked()
            if account is None or not account.enabled:
                raise errors.AccountDisabled()
            try:
                data = unseal(token, row.payload)
            except SealError as exc:
                raise errors.LinkInvalid() from exc
            row.payload = None
            row.used_at = now
            return BuiltProfile(row.content_type or "application/octet-stream", row.filename or "profile", data)

    def devices(self, account_id: int) -> list[DeviceView]:
        with self.store.session() as s:
            return [_device_view(d, self.settings.realm) for d in self._live_account(s, account_id).devices]

    def _own_device(self, s: Session, account_id: int | None, device_id: int) -> EnrolDevice:
        device = s.get(EnrolDevice, device_id)
        if device is None or (account_id is not None and device.account_id != account_id):
            raise errors.DeviceNotFound()
        return device

    def rename(self, account_id: int, device_id: int, name: str) -> DeviceView:
        with self.store.session() as s:
            self._live_account(s, account_id)
            device = self._own_device(s, account_id, device_id)
            device.name = rules.device_name(name, device.name)
            return _device_view(device, self.settings.realm)

    def revoke(self, account_id: int, device_id: int, now: datetime) -> DeviceView:
        with self.store.session() as s:
            self._live_account(s, account_id)
            device = self._own_device(s, account_id, device_id)
            _revoke(s, device, now)
            return _device_view(device, self.settings.realm)

    def renew(self, account_id: int, device_id: int, now: datetime) -> Issued:
        """A new credential for the same device; the old one keeps working for the grace period."""
        with self.store.session() as s:
            account = self._live_account(s, account_id)
            old = self._own_device(s, account_id, device_id)
            if old.revoked_at is not None or old.replaced_by is not None:
                raise errors.DeviceRevoked()
            platform, method = Platform(old.platform), Method(old.method)
            old.revoke_at = rules.grace_end(now, old.expires_at, self.limits.grace)
            issued = self._issue(s, account, platform, method, old.name, now)
            old.replaced_by = issued.device.id
            return issued

    # --- housekeeping (run periodically: `sweep`) ------------------------------------------------------

    def sweep(self, now: datetime) -> tuple[int, int]:
        """End credentials past their grace period or expiry, then mail reminders; returns (ended, mailed)."""
        with self.store.session() as s:
            due = rules.revocation_due(
                [_facts(d) for d in s.scalars(select(EnrolDevice).where(EnrolDevice.revoked_at.is_(None)))], now)
            for device_id in due:
                device = s.get(EnrolDevice, device_id)
                if device is not None:
                    _revoke(s, device, now)
            s.execute(delete(EnrolToken).where(EnrolToken.expires_at <= now - timedelta(days=1)))
            for link in s.scalars(select(EnrolToken).where(EnrolToken.expires_at <= now,
                                                           EnrolToken.payload.is_not(None))):
                link.payload = None
            s.execute(delete(EnrolCode).where(EnrolCode.created_at <= now - timedelta(days=1)))
        mailed = 0
        with self.store.session() as s:
            candidates = s.scalars(select(EnrolDevice).where(
                EnrolDevice.revoked_at.is_(None),
                EnrolDevice.expires_at <= now + timedelta(days=self.limits.reminder_days))).all()
            for device_id in rules.reminder_due([_facts(d) for d in candidates], now, self.limits.reminder_days):
                device = s.get(EnrolDevice, device_id)
                if device is None or not device.account.enabled:
                    continue
                lang = device.account.lang
                body = self.catalogs.text(
                    lang, "The Wi-Fi credential of your device \u201c%(name)s\u201d ends on %(date)s. "
                    "Renew it in \u201cMy devices\u201d: %(url)s") % {
                    "name": device.name, "date": device.expires_at.date().isoformat(),
                    "url": self.settings.portal_url + "devices"}
                try:
                    self.mailer(device.account.email, self.catalogs.text(lang, "Renew your Tsunagaru Wi-Fi credential"),
                                body + "\n")
                except Exception:
                    log.warning("reminder for device %d not sent; will retry", device.id)
                    continue
                device.reminder_sent_at = now
                mailed += 1
        return len(due), mailed

    # --- city staff ----------------------------------------------------------------------------------

    def _staff(self, principal: Principal) -> None:
        if principal.role not in STAFF_ROLES:
            raise errors.Forbidden()

    def find_account(self, principal: Principal, email_text: str) -> AccountView | None:
        self._staff(principal)
        try:
            email = rules.normalise_email(email_text)
        except rules.InvalidEmail as exc:
            raise errors.BadEmail() from exc
        with self.store.session() as s:
            account = s.scalar(select(EnrolAccount).where(EnrolAccount.email == email))
            return None if account is None else _account_view(account, self.settings.realm)

    def staff_revoke(self, principal: Principal, device_id: int, now: datetime) -> DeviceView:
        self._staff(principal)
        with self.store.session() as s:
            device = self._own_device(s, None, device_id)
            before = _device_view(device, self.settings.realm).to_json()
            _revoke(s, device, now)
            after = _device_view(device, self.settings.realm).to_json()
            audit.record(s, principal, "enrol.device.revoke", "enrol_device", device.id, before, after, now=now)
            return _device_view(device, self.settings.realm)

    def disable_account(self, principal: Principal, account_id: int, now: datetime) -> AccountView:
        """Refuse the person everywhere: every device revoked, every session and link dropped."""
        self._staff(principal)
        with self.store.session() as s:
            account = s.get(EnrolAccount, account_id)
            if account is None:
                raise errors.DeviceNotFound()
            before: dict[str, object] = {"enabled": account.enabled,
                                         "live_devices": sum(d.revoked_at is None for d in account.devices)}
            account.enabled = False
            account.disabled_at = now
            for device in account.devices:
                _revoke(s, device, now)
            s.execute(delete(EnrolToken).where(EnrolToken.account_id == account.id))
            audit.record(s, principal, "enrol.account.disable", "enrol_account", account.id, before,
                         {"enabled": False, "live_devices": 0}, now=now)
            return _account_view(account, self.settings.realm)

    def enable_account(self, principal: Principal, account_id: int, now: datetime) -> AccountView:
        self._staff(principal)
        with self.store.session() as s:
            account = s.get(EnrolAccount, account_id)
            if account is None:
                raise errors.DeviceNotFound()
            account.enabled = True
            account.disabled_at = None
            audit.record(s, principal, "enrol.account.enable", "enrol_account", account.id, {"enabled": False},
                         {"enabled": True}, now=now)
            return _account_view(account, self.settings.realm)


def _revoke(s: Session, device: EnrolDevice, now: datetime) -> None:
    """End the device's credential in the IdP store: user disabled, certificates revoked. Idempotent."""
    if device.revoked_at is None:
        device.revoked_at = now
    user = users.find_user(s, device.idp_username)
    if user is not None:
        if user.enabled:
            users.disable_user(s, device.idp_username, now=now)
        users.revoke_user_certificates(s, device.idp_username, now=now)
    for token in s.scalars(select(EnrolToken).where(EnrolToken.device_id == device.id)):
        token.payload = None
    log.info("device %d revoked", device.id)


def _facts(d: EnrolDevice) -> rules.DeviceFacts:
    return rules.DeviceFacts(d.id, d.expires_at, d.revoked_at, d.revoke_at, d.replaced_by, d.reminder_sent_at)


def _device_view(d: EnrolDevice, realm: str) -> DeviceView:
    return DeviceView(d.id, d.name, d.platform, d.method, f"{d.idp_username}@{realm}", d.created_at, d.expires_at,
                      d.revoked_at, d.revoke_at, d.replaced_by)


def _account_view(a: EnrolAccount, realm: str = "") -> AccountView:
    return AccountView(a.id, a.email, a.lang, a.enabled, tuple(_device_view(d, realm) for d in a.devices))
