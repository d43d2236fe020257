"""The web app's configuration: one TOML file parsed strictly into :class:`WebSettings`.

Parsing is pure (text in, settings out); unknown keys and wrong types raise
:class:`~tsunagaru.tomlconf.ConfigError` naming the key, as the ANP's and the IdP's files do. The secret
key (CSRF and nothing else that outlives a restart) is read from a file by :func:`load`, which makes
one with mode 0600 from its first byte when it is missing.

    [web]
    listen = "127.0.0.1:8080"
    db = "sqlite:///tsunagaru.sqlite"   # SQLAlchemy URL; the same store as the registry
    public_url = "https://wifi.city.example"   # https turns on Secure cookies and HSTS
    secret_key_file = "web-secret.key"
    max_body = 1048576                 # bytes; larger requests get 413
    session_hours = 12
    token_days = 90
    ap_poll_write_every = 90           # seconds between writes of an AP's last-poll time (304s in between)
    login_attempts = 5                 # failed logins per user and per address within login_window
    login_window = 300
    passpoint = "operator.toml"        # [operator] + [secrets] of a Passpoint description (AP configs)
    secrets_dir = "secrets"            # files named by APs' secret_ref = "file:NAME"
    tile_url = "https://tiles.city.example/{z}/{x}/{y}.png"   # base map tiles (none by default); its
                                       # origin is added to the Content-Security-Policy's img-src
    trusted_proxies = ["127.0.0.1"]    # reverse proxies whose X-Forwarded-For/-Proto are believed (none
                                       # by default): the login limit per address then sees the client's

    [enrol]                            # optional: the enrolment portal (see tsunagaru.web.enrol.config)
    ...

    [jobs]                             # periodic jobs in this process (see tsunagaru.ops.jobs)
    run = true                         # false on a second replica: the jobs then run in one process only
    sweep_minutes = 60                 # renewal sweep and reminder mails (with [enrol])
    usage_minutes = 10                 # hourly usage aggregates of the last usage_hours hours
    usage_hours = 3
    purge_hours = 24                   # retention purge
    retention_days = 90                # accounting sessions (hashed ids); the hourly aggregates stay
    activity_retention_days = 7        # per-interval activity
    alerts_minutes = 1                 # health rules -> stored alert history

Every table and key is checked: an unknown one is an error with a did-you-mean.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tsunagaru.ops.jobs import JobSettings
from tsunagaru.tomlconf import ConfigError, Listen, TomlReader, check_keys, hostport
from tsunagaru.web.enrol.config import EnrolConfig
from tsunagaru.web.enrol.config import parse as parse_enrol

DEFAULT_LISTEN = Listen("127.0.0.1", 8080)
_WEB_KEYS = {"listen", "db", "public_url", "secret_key_file", "max_body", "session_hours", "token_days",
             "ap_poll_write_every", "login_attempts", "login_window", "passpoint", "secrets_dir", "tile_url",
             "trusted_proxies"}
_JOB_KEYS = ("run", "sweep_minutes", "usage_minutes", "usage_hours", "purge_hours", "retention_days",
             "activity_retention_days", "alerts_minutes")


@dataclass(frozen=True, slots=True)
class WebSettings:
    """Everything :func:`tsunagaru.web.create_app` needs; tests build it directly."""

    db_url: str
    secret_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    listen: Listen = DEFAULT_LISTEN
    public_url: str = "http://127.0.0.1:8080"
    max_body: int = 1 << 20
    session_hours: float = 12.0
    token_days: float = 90.0
    ap_poll_write_every: float = 90.0
    login_attempts: int = 5
    login_window: float = 300.0
    secret_key_file: Path | None = None
    passpoint: Path | None = None
    secrets_dir: Path | None = None
    tile_url: str = ""  # base map tiles ({z}/{x}/{y}); "" = none, nothing leaves the machine
    trusted_proxies: tuple[str, ...] = ()  # addresses/networks whose X-Forwarded-* headers are believed
    enrol: EnrolConfig | None = None
    jobs: JobSettings = field(default_factory=JobSettings)

    @property
    def https(self) -> bool:
        return self.public_url.startswith("https://")


def parse(text: str, base: Path = Path(".")) -> WebSettings:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("(file)", f"not valid TOML: {exc}") from None
    check_keys(doc, "", ("web", "enrol", "jobs"))
    web: Any = doc.get("web")
    if not isinstance(web, dict):
        raise ConfigError("web", "the [web] table is required")
    check_keys(web, "web", _WEB_KEYS)
    r = TomlReader(base)
    public_url = r.string(web, "web.public_url", "http://127.0.0.1:8080") or ""
    if not public_url.startswith(("http://", "https://")):
        raise ConfigError("web.public_url", "must start with http:// or https://")
    db = r.required(web, "web.db")
    if db.startswith("sqlite:///") and not db.startswith("sqlite:////") and db != "sqlite:///:memory:":
        db = "sqlite:///" + str(r.resolve(db.removeprefix("sqlite:///")))
    return WebSettings(
        db_url=db,
        listen=hostport(r.string(web, "web.listen", "127.0.0.1:8080") or "", "web.listen", 8080),
        public_url=public_url.rstrip("/"),
        max_body=int(r.number(web, "web.max_body", 1 << 20, lo=1024, hi=64 << 20)),
        session_hours=r.number(web, "web.session_hours", 12, lo=0.1, hi=24 * 30),
        token_days=r.number(web, "web.token_days", 90, lo=1, hi=3650),
        ap_poll_write_every=r.number(web, "web.ap_poll_write_every", 90, lo=0, hi=3600),
        login_attempts=int(r.number(web, "web.login_attempts", 5, lo=1, hi=1000)),
        login_window=r.number(web, "web.login_window", 300, lo=1, hi=86400),
        secret_key_file=r.resolve(r.string(web, "web.secret_key_file", "web-secret.key") or "web-secret.key"),
        passpoint=_path(r, web, "web.passpoint"),
        secrets_dir=_path(r, web, "web.secrets_dir"),
        tile_url=_tile_url(r, web),
        trusted_proxies=_proxies(r, web),
        enrol=parse_enrol(doc["enrol"], r) if "enrol" in doc else None,
        jobs=_jobs(doc.get("jobs", {}), r),
    )


def _proxies(r: TomlReader, web: dict[str, Any]) -> tuple[str, ...]:
    """``web.trusted_proxies``: IP addresses or networks (``10.0.0.0/8``), each checked here, so that a typo
    is a start-up error and not a proxy silently not believed (or, worse, every client believed)."""
    out = []
    for i, item in enumerate(r.strings(web, "web.trusted_proxies")):
        try:
            out.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(f"web.trusted_proxies[{i}]", f"not an IP address or network: {item!r}") from None
    return tuple(out)


TILE_ENV = "TSUNAGARU_TILE_URL"


def tile_url(settings: WebSettings) -> str:
    """``web.tile_url``, else ``$TSUNAGARU_TILE_URL`` (the demo's way); "" means no base tiles."""
    return settings.tile_url or os.environ.get(TILE_ENV, "")


def _tile_url(r: TomlReader, web: dict[str, Any]) -> str:
    url = r.string(web, "web.tile_url", "") or ""
    if url and (not url.startswith(("https://", "http://")) or "{z}" not in url or any(c in url for c in " '\";")):
        raise ConfigError("web.tile_url", "must be an http(s) URL with {z}, {x} and {y}, e.g. "
                          "https://tiles.example/{z}/{x}/{y}.png")
    return url


def _jobs(table: Any, r: TomlReader) -> JobSettings:
    if not isinstance(table, dict):
        raise ConfigError("jobs", "must be a table")
    check_keys(table, "jobs", _JOB_KEYS)
    retention = r.number(table, "jobs.retention_days", 90, lo=1, hi=3650)
    activity = r.number(table, "jobs.activity_retention_days", 7, lo=1, hi=3650)
    if activity > retention:
        raise ConfigError("jobs.activity_retention_days", f"must not exceed retention_days ({retention:g})")
    return JobSettings(
        run=r.boolean(table, "jobs.run", True),
        sweep_minutes=r.number(table, "jobs.sweep_minutes", 60, lo=1, hi=7 * 24 * 60),
        usage_minutes=r.number(table, "jobs.usage_minutes", 10, lo=0.5, hi=24 * 60),
        usage_hours=int(r.number(table, "jobs.usage_hours", 3, lo=1, hi=48)),
        purge_hours=r.number(table, "jobs.purge_hours", 24, lo=1, hi=24 * 30),
        retention_days=retention, activity_retention_days=activity,
        alerts_minutes=r.number(table, "jobs.alerts_minutes", 1, lo=0.25, hi=24 * 60))


def _path(r: TomlReader, table: dict[str, Any], key: str) -> Path | None:
    value = r.string(table, key)
    return r.resolve(value) if value else None


def read_or_make_key(path: Path) -> bytes:
    """The key in ``path``; a new random one (file mode 0600 from creation) when it does not exist."""
    try:
        key = path.read_bytes()
    except FileNotFoundError:
        key = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key
    except OSError as exc:
        raise ConfigError("web.secret_key_file", f"cannot read {path}: {exc.strerror}") from None
    if len(key) < 16:
        raise ConfigError("web.secret_key_file", f"{path} holds {len(key)} octets; need at least 16")
    return key


def parse_file(path: str | Path) -> WebSettings:
    """The settings in ``path`` without reading the secret key (for commands that only need the database)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(p), f"cannot read: {exc.strerror}") from None
    return parse(text, base=p.parent)


def load(path: str | Path) -> WebSettings:
    settings = parse_file(path)
    assert settings.secret_key_file is not None
    return replace(settings, secret_key=read_or_make_key(settings.secret_key_file))
