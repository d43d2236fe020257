"""Putting a portal together from a state folder (the demo's, or a deployment's): the IdP's EAP CA for
the profiles, the user CA for EAP-TLS, the profile-signing identity, the mailer and the key.

    portal = portal_from_state(state_dir, store, realm="idp.example", secret=key, smtp=SmtpSettings(...))
    app.include_router(pages); app.include_router(api); install(app, portal)

or, in ``tsunagaru web serve``, from web.toml's ``[enrol]`` (:mod:`tsunagaru.web.enrol.config`) with
:func:`portal_from_config`. A missing or unreadable CA file is a :class:`~tsunagaru.tomlconf.ConfigError`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tsunagaru.store import Store
from tsunagaru.tomlconf import ConfigError
from tsunagaru.web.enrol.config import EnrolConfig
from tsunagaru.web.enrol.mail import SmtpMailer, SmtpSettings
from tsunagaru.web.enrol.messages import Catalogs
from tsunagaru.web.enrol.packaging import ProfileFactory, load_or_make_signer, realm_settings
from tsunagaru.web.enrol.router import Portal
from tsunagaru.web.enrol.rules import Limits
from tsunagaru.web.enrol.service import EnrolService, EnrolSettings


def portal_from_state(state_dir: Path, store: Store, *, realm: str, secret: bytes, smtp: SmtpSettings,
                      public_url: str = "http://127.0.0.1:8080", limits: Limits | None = None,
                      ca_file: str = "ca.pem", server_names: tuple[str, ...] = ()) -> Portal:
    """``state_dir`` holds ``ca.pem`` (what devices trust) and ``user-ca.pem``/``.key`` (EAP-TLS; optional)."""
    now = datetime.now(UTC)
    profile_settings = realm_settings(realm, (state_dir / ca_file).read_bytes(), server_names)
    factory = ProfileFactory(profile_settings, load_or_make_signer(state_dir, now))
    user_ca_dir = state_dir if (state_dir / "user-ca.pem").exists() else None
    settings = EnrolSettings(realm=realm, secret=secret, user_ca_dir=user_ca_dir, limits=limits or Limits(),
                             portal_url=public_url.rstrip("/") + "/enrol/")
    service = EnrolService(store, settings, SmtpMailer(smtp).send, factory, Catalogs())
    return Portal(service, secret, public_url.rstrip("/"))


def portal_from_config(cfg: EnrolConfig, store: Store, *, secret: bytes, public_url: str) -> Portal:
    """The portal of web.toml's ``[enrol]``: device credentials go to ``store`` (the IdP's)."""
    now = datetime.now(UTC)
    try:
        ca = cfg.ca_file.read_bytes()
    except OSError as exc:
        raise ConfigError("enrol.ca_file", f"cannot read {cfg.ca_file}: {exc.strerror}") from None
    if b"-----BEGIN CERTIFICATE-----" not in ca:
        raise ConfigError("enrol.ca_file", f"{cfg.ca_file} holds no PEM certificate")
    if cfg.user_ca_dir is not None and not (cfg.user_ca_dir / "user-ca.pem").exists():
        raise ConfigError("enrol.user_ca_dir", f"{cfg.user_ca_dir} has no user-ca.pem (and user-ca.key)")
    try:
        profile_settings = realm_settings(cfg.realm, ca, cfg.server_names)
    except ValueError as exc:
        raise ConfigError("enrol.ca_file", f"{cfg.ca_file}: not a PEM certificate chain ({exc})") from None
    factory = ProfileFactory(profile_settings, load_or_make_signer(cfg.signing_dir, now))
    settings = EnrolSettings(realm=cfg.realm, secret=secret, user_ca_dir=cfg.user_ca_dir, limits=cfg.limits,
                             portal_url=public_url.rstrip("/") + "/enrol/")
    service = EnrolService(store, settings, SmtpMailer(cfg.smtp).send, factory, Catalogs())
    return Portal(service, secret, public_url.rstrip("/"))
