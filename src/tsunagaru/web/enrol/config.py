"""``[enrol]`` of web.toml: the enrolment portal outside the demo (what ``enrol.demo.attach`` sets up there).

    [enrol]
    realm = "idp.city.example"          # the IdP realm the portal issues device credentials for
    ca_file = "idp/ca.pem"              # the CA chain devices trust for the EAP server (never its certificate)
    server_names = ["radius.idp.city.example"]   # names the EAP server's certificate carries (pinned)
    user_ca_dir = "idp"                 # optional: user-ca.pem + user-ca.key there (EAP-TLS is then offered)
    signing_dir = "enrol-signing"       # profile-signing certificate + key (made once, self-signed, if missing)
    idp_db = "sqlite:///idp/idp.sqlite" # where the IdP reads device credentials; default: web.db
    code_minutes = 10                   # life of a sign-up code
    code_attempts = 5                   # wrong codes before the code is spent
    codes_per_email = 5                 # codes per address per rate_window_minutes
    codes_per_source = 20               # codes per client address per rate_window_minutes
    rate_window_minutes = 60
    session_hours = 12                  # a signed-in person's session
    profile_link_minutes = 15           # life of a tokenised profile link (Windows fetches it itself)
    device_days = 365                   # life of a device credential
    reminder_days = 14                  # renewal reminder this many days before the end
    grace_days = 7                      # a renewed credential's predecessor works this long
    max_devices = 10

    [enrol.smtp]
    host = "smtp.city.example"
    port = 587
    sender = "City Wi-Fi <noreply@wifi.city.example>"   # required
    starttls = true                     # certificate checked against the system's CAs
    username = "portal"                 # optional; then password_file is required
    password_file = "smtp-password"     # first line; mode 0600 (refused when others may read it)
    timeout = 10

Parsing is pure apart from reading the SMTP password file; unknown keys are errors with a did-you-mean,
as in the ANP's and the IdP's files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from tsunagaru.tomlconf import ConfigError, TomlReader, check_keys
from tsunagaru.web.enrol.mail import SmtpSettings
from tsunagaru.web.enrol.rules import Limits

ENROL_KEYS = ("realm", "ca_file", "server_names", "user_ca_dir", "signing_dir", "idp_db", "code_minutes",
              "code_attempts", "codes_per_email", "codes_per_source", "rate_window_minutes", "session_hours",
              "profile_link_minutes", "device_days", "reminder_days", "grace_days", "max_devices", "smtp")
SMTP_KEYS = ("host", "port", "sender", "starttls", "username", "password_file", "timeout")


@dataclass(frozen=True, slots=True)
class EnrolConfig:
    realm: str
    ca_file: Path
    smtp: SmtpSettings = field(repr=False)
    server_names: tuple[str, ...] = ()
    user_ca_dir: Path | None = None
    signing_dir: Path = Path("enrol-signing")
    idp_db: str | None = None  # None: the web app's own store
    limits: Limits = field(default_factory=Limits)


def parse(table: Any, r: TomlReader) -> EnrolConfig:
    if not isinstance(table, dict):
        raise ConfigError("enrol", "must be a table")
    check_keys(table, "enrol", ENROL_KEYS)
    realm = r.required(table, "enrol.realm").lower()
    if "." not in realm or any(c.isspace() or c in "@/\\" for c in realm):
        raise ConfigError("enrol.realm", f"{realm!r} is not a realm like idp.city.example")

    def minutes(key: str, default: float, hi: float) -> timedelta:
        return timedelta(minutes=r.number(table, f"enrol.{key}", default, lo=1, hi=hi))

    def count(key: str, default: int, hi: int) -> int:
        return int(r.number(table, f"enrol.{key}", default, lo=1, hi=hi))

    device_days = count("device_days", 365, 3650)
    reminder_days = count("reminder_days", 14, 365)
    if reminder_days >= device_days:
        raise ConfigError("enrol.reminder_days", f"must be less than device_days ({device_days})")
    limits = Limits(
        code_ttl=minutes("code_minutes", 10, 24 * 60), code_attempts=count("code_attempts", 5, 100),
        codes_per_email=count("codes_per_email", 5, 1000), codes_per_source=count("codes_per_source", 20, 100_000),
        window=minutes("rate_window_minutes", 60, 7 * 24 * 60),
        session_ttl=timedelta(hours=r.number(table, "enrol.session_hours", 12, lo=0.1, hi=24 * 30)),
        profile_link_ttl=minutes("profile_link_minutes", 15, 24 * 60), device_days=device_days,
        reminder_days=reminder_days, grace=timedelta(days=r.number(table, "enrol.grace_days", 7, lo=0, hi=90)),
        max_devices=count("max_devices", 10, 1000))
    user_ca = r.string(table, "enrol.user_ca_dir")
    return EnrolConfig(
        realm=realm, ca_file=r.resolve(r.required(table, "enrol.ca_file")),
        smtp=_smtp(table.get("smtp"), r), server_names=tuple(r.strings(table, "enrol.server_names")),
        user_ca_dir=r.resolve(user_ca) if user_ca else None,
        signing_dir=r.resolve(r.string(table, "enrol.signing_dir", "enrol-signing") or "enrol-signing"),
        idp_db=_db(r, table), limits=limits)


def _db(r: TomlReader, table: dict[str, Any]) -> str | None:
    db = r.string(table, "enrol.idp_db")
    if db and db.startswith("sqlite:///") and not db.startswith("sqlite:////") and db != "sqlite:///:memory:":
        db = "sqlite:///" + str(r.resolve(db.removeprefix("sqlite:///")))
    return db or None


def _smtp(table: Any, r: TomlReader) -> SmtpSettings:
    if not isinstance(table, dict):
        raise ConfigError("enrol.smtp", "the [enrol.smtp] table is required (the portal mails sign-up codes)")
    check_keys(table, "enrol.smtp", SMTP_KEYS)
    username = r.string(table, "enrol.smtp.username")
    password_file = r.string(table, "enrol.smtp.password_file")
    if (username is None) != (password_file is None):
        raise ConfigError("enrol.smtp.password_file" if username else "enrol.smtp.username",
                          "username and password_file go together")
    sender = r.required(table, "enrol.smtp.sender")
    if "\n" in sender or "\r" in sender or "@" not in sender:
        raise ConfigError("enrol.smtp.sender", "must be one address, e.g. \"City Wi-Fi <noreply@city.example>\"")
    return SmtpSettings(
        host=r.string(table, "enrol.smtp.host", "127.0.0.1") or "127.0.0.1",
        port=int(r.number(table, "enrol.smtp.port", 25, lo=1, hi=65535)), sender=sender,
        starttls=r.boolean(table, "enrol.smtp.starttls", False), username=username,
        password=read_password(r.resolve(password_file)) if password_file else None,
        timeout=r.number(table, "enrol.smtp.timeout", 10, lo=1, hi=300))


def read_password(path: Path) -> str:
    """The first line of ``path``, which only its owner may read (a secret is not kept in web.toml)."""
    key = "enrol.smtp.password_file"
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(key, f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(key, f"{path} is not UTF-8 text") from None
    if mode & 0o077 and os.name == "posix":
        raise ConfigError(key, f"{path} may be read by others (mode {mode & 0o777:o}); chmod 600 it")
    password = text.splitlines()[0] if text else ""
    if not password:
        raise ConfigError(key, f"{path} is empty")
    return password
