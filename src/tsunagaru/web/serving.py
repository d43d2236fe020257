"""What ``tsunagaru web serve`` runs besides the app: the enrolment portal of ``[enrol]`` and the jobs of
``[jobs]`` (:mod:`tsunagaru.ops.jobs`), put together and taken apart in one place so that the command, the
tests and the demo do the same thing.

    served = assemble(settings)        # app + portal (if configured) + scheduler (started if jobs.run)
    uvicorn.run(served.app, ...)
    served.close()
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI

from tsunagaru.ops import jobs
from tsunagaru.store import Store
from tsunagaru.web.app import create_app
from tsunagaru.web.config import WebSettings
from tsunagaru.web.enrol.router import Portal, install
from tsunagaru.web.enrol.setup import portal_from_config


@dataclass
class Served:
    app: FastAPI
    store: Store
    portal: Portal | None = None
    scheduler: jobs.Scheduler | None = None
    _owned: list[Store] = field(default_factory=list)

    def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        for store in self._owned:
            store.dispose()


def assemble(settings: WebSettings, store: Store | None = None, *, start_jobs: bool = True) -> Served:
    """The app of ``settings``; the portal when ``[enrol]`` is there; the job thread when ``[jobs] run``."""
    owned = [] if store is not None else [Store.open(settings.db_url)]
    store = store or owned[0]
    app = create_app(settings, store)
    portal = None
    if settings.enrol is not None:
        idp_store = store
        if settings.enrol.idp_db and settings.enrol.idp_db != settings.db_url:
            idp_store = Store.open(settings.enrol.idp_db)
            owned.append(idp_store)
        portal = portal_from_config(settings.enrol, idp_store, secret=settings.secret_key,
                                    public_url=settings.public_url)
        install(app, portal)
    scheduler = None
    if settings.jobs.run:
        scheduler = jobs.build(store, settings.jobs, portal.service.sweep if portal is not None else None)
        if start_jobs:
            scheduler.start()
    return Served(app, store, portal, scheduler, owned)
