"""The portal in ``tsunagaru demo``: a real SMTP sink (aiosmtpd) on loopback writing every message to
``DIR/outbox/*.eml``, and the portal attached to the demo's web app over the IdP's own store, so that a
device enrolled on http://127.0.0.1:8080/enrol/ logs in through the demo's ANP at once.

The demo's web start-up calls, after ``create_app``::

    sink = enrol_demo.attach(app, state.root, secret=settings.secret_key, public_url="http://127.0.0.1:8080")
    ...                      # serve
    sink.stop()              # on shutdown
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from tsunagaru.demo_state import REALM
from tsunagaru.store import Store
from tsunagaru.web.enrol.mail import OutboxSink, SmtpSettings
from tsunagaru.web.enrol.router import install
from tsunagaru.web.enrol.setup import portal_from_state

OUTBOX = "outbox"


def attach(app: FastAPI, state_root: Path, *, secret: bytes, public_url: str = "http://127.0.0.1:8080",
           store: Store | None = None, smtp_port: int = 0) -> OutboxSink:
    """Start the outbox sink and attach the portal to ``app``; returns the sink (stop it at shutdown).

    ``store`` defaults to the IdP's database in the state folder (``idp.sqlite``): device credentials
    must land where the IdP looks for them.
    """
    sink = OutboxSink(state_root / OUTBOX, port=smtp_port).start()
    store = store or Store.open(f"sqlite:///{state_root / 'idp.sqlite'}")
    portal = portal_from_state(state_root, store, realm=REALM, secret=secret, public_url=public_url,
                               smtp=SmtpSettings(host="127.0.0.1", port=sink.port,
                                                 sender="Tsunagaru demo <noreply@idp.tsunagaru.test>"))
    install(app, portal)
    return sink


def banner_lines(state_root: Path, sink: OutboxSink, public_url: str = "http://127.0.0.1:8080") -> list[str]:
    return [f"  enrolment portal     {public_url}/enrol/  (API {public_url}/api/v1/enrol/)",
            f"  sign-up mail         SMTP 127.0.0.1:{sink.port}, each message in {state_root / OUTBOX}/*.eml"]
