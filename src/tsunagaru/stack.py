"""Run the IdP and the ANP together in one event loop (the demo, and `tsunagaru serve` on one box).

The IdP listens on RadSec (federation peers) and UDP (local NASes); the ANP listens on UDP for access
points and reaches the IdP the way it reaches any IdP: by discovery and RadSec, with the federation
PKI checked both ways. Nothing here decides anything; it only starts and stops the parts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tsunagaru.anp.config import AnpConfig
from tsunagaru.anp.config import load as load_anp
from tsunagaru.anp.server import AnpServer
from tsunagaru.anp.wiring import build_ap_context, build_server
from tsunagaru.demo_state import NAS_SECRET, REALM, DemoPorts, DemoState
from tsunagaru.idp.server import IdpServer, RadSecListen, UdpListen
from tsunagaru.idp.service import IdpCore, IdpSettings, build_eap_handler
from tsunagaru.idp.store import SqlCredentialStore
from tsunagaru.store import Store


@dataclass
class Stack:
    idp: IdpServer
    anp: AnpServer
    anp_config: AnpConfig
    store: Store

    async def close(self) -> None:
        await self.anp.close()
        await self.idp.close()
        self.store.dispose()


def idp_settings(state: DemoState) -> IdpSettings:
    return IdpSettings(eap_certificate=state.path("eap-server.pem"), eap_key=state.path("eap-server.key"),
                       user_ca=state.path("user-ca.pem"), cui_key=state.cui_key, wbaid="TSUNAGARUIDP:JP",
                       realms=(REALM,))


async def start_stack(state: DemoState, ports: DemoPorts) -> Stack:
    store = Store.open(state.db_url)
    settings = idp_settings(state)
    credentials = SqlCredentialStore(store)
    core = IdpCore(settings, credentials, store, build_eap_handler(settings, credentials, NAS_SECRET.encode()))
    idp = IdpServer(core)
    await idp.start(
        RadSecListen(ports.host, ports.idp_radsec, state.path("idp-radsec.pem"), state.path("idp-radsec.key"),
                     (state.path("federation-roots.pem"),),
                     (state.path("federation/crl.pem"), state.path("federation-2/crl.pem"))),
        UdpListen(ports.host, ports.idp_udp, NAS_SECRET.encode()),
    )
    cfg = load_anp(state.path("anp.toml"))
    anp = build_server(cfg)
    try:
        await anp.listen(cfg.auth.host, cfg.auth.port, cfg.acct.port)
        if cfg.radsec is not None:
            await anp.listen_radsec(cfg.radsec.host, cfg.radsec.port, build_ap_context(cfg))
    except OSError:
        await idp.close()
        raise
    return Stack(idp, anp, cfg, store)


async def wait_forever(stop: asyncio.Event) -> None:
    await stop.wait()
