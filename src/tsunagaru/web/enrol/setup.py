"""Putting a portal together from a state folder (the demo's, or a deployment's): the IdP's EAP CA for
the profiles, the user CA for EAP-TLS, the profile-signing identity, the mailer and the key.

    portal = portal_from_state(state_dir, store, realm="idp.example", secret=key, smtp=SmtpSettings(...))
    app.include_router(pages); app.include_router(api); install(app, portal)
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tsunagaru.store import Store
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
