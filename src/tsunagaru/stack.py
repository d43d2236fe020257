"""Run the IdP and the ANP together in one event loop: the demo's two services on one box.

The IdP is assembled by :mod:`tsunagaru.idp.serve` from the ``idp.toml`` the demo writes (the same code
as ``tsunagaru idp serve`` and ``tsunagaru serve --idp``); the ANP from its ``anp.toml``. The ANP reaches
the IdP the way it reaches any IdP: by discovery and RadSec, with the federation PKI checked both ways.
Each serves its Prometheus metrics where its file says (the demo: ANP :9812, IdP :9813). Nothing here
decides anything; it only starts and stops the parts.
"""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from typing import Any

from tsunagaru.anp.config import AnpConfig
from tsunagaru.anp.config import load as load_anp
from tsunagaru.anp.registry_clients import install_into, registry_follower
from tsunagaru.anp.server import AnpServer
from tsunagaru.anp.wiring import build_ap_context, build_server
from tsunagaru.demo_state import DemoState
from tsunagaru.idp import serve as idp_serve
from tsunagaru.idp.config import load as load_idp
from tsunagaru.shutdown import stop_in_thread


@dataclass
class Stack:
    idp: idp_serve.RunningIdp
    anp: AnpServer
    anp_config: AnpConfig
    anp_metrics: Any = None
    anp_registry: Any = None  # tsunagaru.anp.registry_clients.RegistryFollower (anp.clients_db)

    @property
    def store(self) -> Any:
        return self.idp.prepared.store

    async def close(self) -> None:
        """The registry follower, the ANP (drains), its metrics endpoint, then the IdP (drains). The
        blocking stops run in daemon threads with bounds, never in asyncio's default executor (which
        ``asyncio.run`` joins without a bound at the end)."""
        if self.anp_registry is not None:
            await stop_in_thread("anp-registry", self.anp_registry.stop, 12.0)  # two 5 s joins inside
        try:
            await self.anp.close()
        finally:
            if self.anp_metrics is not None:
                await stop_in_thread("anp-metrics", functools.partial(idp_serve.stop_metrics, self.anp_metrics), 3.0)
            await self.idp.close()


async def start_stack(state: DemoState) -> Stack:
    idp = await idp_serve.start(idp_serve.prepare(load_idp(state.path("idp.toml"))))
    anp: AnpServer | None = None
    follower = None
    try:
        cfg = load_anp(state.path("anp.toml"))
        follower = await asyncio.to_thread(registry_follower, cfg)  # the demo's APs come from its registry
        if follower is not None:
            cfg = follower.merged()
        anp = build_server(cfg)
        await anp.listen(cfg.auth.host, cfg.auth.port, cfg.acct.port)
        if cfg.radsec is not None:
            await anp.listen_radsec(cfg.radsec.host, cfg.radsec.port, build_ap_context(cfg))
        metrics = idp_serve.serve_metrics(cfg.metrics, anp.metrics.registry) if cfg.metrics is not None else None
    except BaseException:
        if follower is not None:
            follower.stop()
        if anp is not None:
            await anp.close()
        await idp.close(drain=0)
        raise
    if follower is not None:
        server = anp
        follower.start(asyncio.get_running_loop(), lambda new: install_into(server, new))
    return Stack(idp, anp, cfg, metrics, follower)
