"""Pure decisions of the enrolment flows: codes and their hashes, rate limits, e-mail syntax, who is due a
renewal reminder and which renewed credentials have reached the end of their grace period.

No clock and no database here: ``now`` and the rows' facts are passed in, so every rule is a plain
function a test can call with any time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

MAX_EMAIL = 254
MAX_DEVICE_NAME = 64
CODE_DIGITS = 6
# Local part and domain as people type them; not RFC 5322 in full (quoted local parts are refused on purpose:
# they are rare, and a mailer header is built from this string).
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


@dataclass(frozen=True, slots=True)
class Limits:
    """How long codes live and how often people may ask; defaults suit a public portal."""

    code_ttl: timedelta = timedelta(minutes=10)
    code_attempts: int = 5
    codes_per_email: int = 5  # per window
    codes_per_source: int = 20  # per window, per client address
    window: timedelta = timedelta(hours=1)
    session_ttl: timedelta = timedelta(hours=12)
    api_token_ttl: timedelta = timedelta(hours=1)
    profile_link_ttl: timedelta = timedelta(minutes=15)
    device_days: int = 365
    reminder_days: int = 14
    grace: timedelta = timedelta(days=7)
    max_devices: int = 10


class InvalidEmail(ValueError):
    pass


def normalise_email(text: str) -> str:
    """The address as stored: trimmed and lower-cased; anything that is not one address is refused."""
    email = text.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidEmail("not an e-mail address")
    return email


def new_code() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))


def clean_code(text: str) -> str | None:
    """What people type (spaces, full-width digits from a Japanese keyboard) as six ASCII digits, or None."""
    digits = "".join(str(int(ch)) for ch in text if ch.isdigit() and ch.isdecimal())
    kept = "".join(ch for ch in text if not ch.isspace() and ch != "-")
    return digits if len(digits) == CODE_DIGITS and len(kept) == CODE_DIGITS else None


def keyed_hash(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 over the parts: a six-digit code hashed without a secret key would be read back at once."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        data = part.encode("utf-8")
        mac.update(len(data).to_bytes(4, "big") + data)
    return mac.hexdigest()


def token_digest(token: str) -> str:
    """Tokens are 256-bit random: a plain SHA-256 is enough to keep them unusable at rest."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def may_send_code(sent_to_email: int, sent_from_source: int, limits: Limits) -> bool:
    """Whether another code may be mailed, given the codes sent in the window to this address and from this
    client address."""
    return sent_to_email < limits.codes_per_email and sent_from_source < limits.codes_per_source


@dataclass(frozen=True, slots=True)
class DeviceFacts:
    """What the renewal rules need to know of a device."""

    id: int
    expires_at: datetime
    revoked_at: datetime | None
    revoke_at: datetime | None
    replaced_by: int | None
    reminder_sent_at: datetime | None


def reminder_due(devices: Iterable[DeviceFacts], now: datetime, days_before: int) -> list[int]:
    """Devices whose credential ends within ``days_before`` days, still live, not renewed, not yet reminded."""
    horizon = now + timedelta(days=days_before)
    return [d.id for d in devices
            if d.revoked_at is None and d.replaced_by is None and d.reminder_sent_at is None
            and now < d.expires_at <= horizon]


def revocation_due(devices: Iterable[DeviceFacts], now: datetime) -> list[int]:
    """Renewed (or expired) devices whose old credential must now end."""
    return [d.id for d in devices
            if d.revoked_at is None and ((d.revoke_at is not None and d.revoke_at <= now) or d.expires_at <= now)]


def grace_end(now: datetime, expires_at: datetime, grace: timedelta) -> datetime:
    """When a renewed credential stops: after the grace period, never later than its own expiry."""
    return min(now + grace, expires_at)


def device_name(text: str, fallback: str) -> str:
    """A device name as shown in "my devices": printable, trimmed, at most MAX_DEVICE_NAME characters."""
    name = " ".join("".join(ch for ch in text if ch.isprintable()).split())
    return name[:MAX_DEVICE_NAME] or fallback
