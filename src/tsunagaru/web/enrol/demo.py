"""The portal in ``tsunagaru demo``: a real SMTP sink (aiosmtpd) on loopback writing every message to
``DIR/outbox/*.eml``, and the portal attached to the demo's web app over the IdP's own store, so that a
device enrolled on http://127.0.0.1:8080/enrol/ logs in through the demo's ANP at once.

The demo's web start-up calls, after ``create_app``::

    portal = enrol_demo.attach(app, state.root, store=store)   # the web app's key, URL; the IdP's store
    print("\n".join(enrol_demo.banner_lines(state.root, portal, public_url)))
    ...                      # serve
    portal.stop()            # on shutdown (the SMTP sink and the hourly sweep)
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from fastapi import FastAPI

from tsunagaru.demo_state import REALM
from tsunagaru.store import Store
from tsunagaru.web.enrol.mail import OutboxSink, SmtpSettings
from tsunagaru.web.enrol.router import Portal, install
from tsunagaru.web.enrol.setup import portal_from_state

OUTBOX = "outbox"
SWEEP_EVERY = 3600.0  # seconds

log = logging.getLogger(__name__)


class DemoPortal:
    """The demo's outbox sink and the thread that runs the portal's sweep (renewals, reminders) hourly."""

    def __init__(self, sink: OutboxSink, portal: Portal, every: float | None = SWEEP_EVERY) -> None:
        self.sink = sink
        self.portal = portal
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sweep, args=(every,), name="enrol-sweep", daemon=True)
        if every is not None:  # None: the web app's job scheduler sweeps (tsunagaru.ops.jobs)
            self._thread.start()

    @property
    def port(self) -> int:
        return self.sink.port

    def _sweep(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                ended, mailed = self.portal.service.sweep(self.portal.now())
            except Exception:  # a failed sweep is retried on the next round; the demo keeps serving
                log.exception("enrolment sweep failed")
                continue
            if ended or mailed:
                log.info("enrolment sweep: %d credentials ended, %d reminders mailed", ended, mailed)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self.sink.stop()


def attach(app: object, state_root: Path, *, secret: bytes | None = None, public_url: str | None = None,
           store: Store | None = None, smtp_port: int = 0, sweep_every: float | None = SWEEP_EVERY) -> DemoPortal:
    """Start the outbox sink and the sweep, attach the portal to ``app``; stop the result at shutdown.

    ``secret`` and ``public_url`` default to the web app's own settings (one CSRF key for the dashboard's
    and the portal's forms).

    ``store`` defaults to the IdP's database in the state folder (``idp.sqlite``): device credentials
    must land where the IdP looks for them.
    """
    if not isinstance(app, FastAPI):  # uvicorn's Config.app is typed loosely
        raise TypeError("the portal attaches to the FastAPI app")
    ctx = getattr(app.state, "ctx", None)
    if secret is None:
        if ctx is None:
            raise ValueError("give the CSRF secret: the app has no web context")
        secret = ctx.settings.secret_key
    public_url = public_url or (ctx.settings.public_url if ctx is not None else "http://127.0.0.1:8080")
    sink = OutboxSink(state_root / OUTBOX, port=smtp_port).start()
    store = store or Store.open(f"sqlite:///{state_root / 'idp.sqlite'}")
    portal = portal_from_state(state_root, store, realm=REALM, secret=secret, public_url=public_url,
                               smtp=SmtpSettings(host="127.0.0.1", port=sink.port,
                                                 sender="Tsunagaru demo <noreply@idp.tsunagaru.test>"))
    install(app, portal)
    return DemoPortal(sink, portal, sweep_every)


def banner_lines(state_root: Path, sink: OutboxSink | DemoPortal,
                 public_url: str = "http://127.0.0.1:8080") -> list[str]:
    return [f"  enrolment portal     {public_url}/enrol/  (API {public_url}/api/v1/enrol/)",
            f"  sign-up mail         SMTP 127.0.0.1:{sink.port}, each message in {state_root / OUTBOX}/*.eml"]
