"""Build a running ANP from its configuration: RadSec pool, discovery, spool, metrics, listeners.

Also the :class:`RadSecTransport` that adapts the RadSec pool to the ANP's :class:`Transport`
interface, turning RadSec errors into the two failures the failover logic knows (connection failure
and timeout), and the federation PKI check that every upstream peer must pass.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509

from tsunagaru.anp.clients import ClientRegistry
from tsunagaru.anp.config import AnpConfig
from tsunagaru.anp.core import AnpCore
from tsunagaru.anp.finder import DiscoveryFinder
from tsunagaru.anp.metrics import AnpMetrics
from tsunagaru.anp.routing import PeerAddress, Router
from tsunagaru.anp.server import AnpServer
from tsunagaru.anp.spool import AccountingSpool
from tsunagaru.discovery import CachedSource, CachePolicy, DnsSource, RouteCache, ZoneFileSource
from tsunagaru.discovery.source import DiscoverySource
from tsunagaru.radius import Packet
from tsunagaru.radsec import (
    Peer,
    PeerPool,
    RadSecError,
    RequestTimeout,
    all_of,
    client_context,
    refuse_own_certificate,
    server_context,
)
from tsunagaru.radsec.federation import TrustFiles, federation_check


class RadSecTransport:
    def __init__(self, pool: PeerPool) -> None:
        self.pool = pool

    @staticmethod
    def _peer(peer: PeerAddress) -> Peer:
        return Peer(peer.host, peer.port, peer.name)

    def is_up(self, peer: PeerAddress) -> bool:
        return self.pool.is_up(self._peer(peer))

    async def send(self, peer: PeerAddress, packet: Packet, timeout: float) -> tuple[Packet, Packet]:
        try:
            reply = await self.pool.request(self._peer(peer), packet, timeout=timeout)
        except RequestTimeout as exc:
            raise TimeoutError(str(exc)) from exc
        except RadSecError as exc:
            raise ConnectionError(str(exc)) from exc
        return packet, reply

    async def close(self) -> None:
        await self.pool.close()


def build_pool(config: AnpConfig) -> PeerPool:
    tls = config.tls
    if tls.certificate is None or not tls.roots:
        raise ValueError("tls.certificate, tls.key and tls.roots are needed to reach identity providers")
    roots_file = tls.roots[0]
    ctx = client_context(certfile=tls.certificate, keyfile=tls.key, cafile=roots_file, check_hostname=False)
    for extra in tls.roots[1:]:
        ctx.load_verify_locations(cafile=str(extra))
    ctx.verify_mode = ssl.CERT_REQUIRED
    trust = TrustFiles(tls.roots, tls.crls, (tls.certificate,))
    hook = all_of(refuse_own_certificate(tls.certificate), federation_check(trust, "server"))
    return PeerPool(ctx, verify_peer=hook, request_timeout=config.request_timeout)


def build_ap_context(config: AnpConfig) -> ssl.SSLContext:
    """TLS for access points that connect with RadSec: our AP-side certificate (serverAuth; by default the
    federation one, which then needs the hub role) and the APs' CA (by default the federation roots)."""
    tls = config.tls
    roots = tls.ap_roots or tls.roots
    certificate, key = (tls.ap_certificate, tls.ap_key) if tls.ap_certificate else (tls.certificate, tls.key)
    if certificate is None or not roots:
        raise ValueError("anp.listen_radsec needs tls.ap_certificate or tls.certificate, and tls.ap_roots or tls.roots")
    ctx = server_context(certfile=certificate, keyfile=key, cafile=roots[0])
    for extra in roots[1:]:
        ctx.load_verify_locations(cafile=str(extra))
    return ctx


def build_source(config: AnpConfig) -> CachedSource:
    d = config.discovery
    source: DiscoverySource
    if d.zone_file is not None:
        source = ZoneFileSource.from_file(d.zone_file)
    elif d.nameservers:
        source = DnsSource([n.host for n in d.nameservers], port=d.nameservers[0].port, timeout=d.timeout)
    else:
        source = DnsSource(timeout=d.timeout)
    policy = CachePolicy(floor=int(d.ttl_floor), ceiling=int(d.ttl_ceiling), negative_default=int(d.negative_ttl))
    return CachedSource(source, RouteCache(policy))


def build_core(config: AnpConfig) -> AnpCore:
    router = Router(list(config.routes), list(config.allow), list(config.deny), config.discovery.enabled)
    return AnpCore(ClientRegistry.of(config.clients), router, config.decoration)


def build_server(config: AnpConfig, metrics: AnpMetrics | None = None) -> AnpServer:
    metrics = metrics or AnpMetrics()
    pool = build_pool(config)
    if config.tls.certificate is not None:
        leaf = x509.load_pem_x509_certificate(config.tls.certificate.read_bytes())
        metrics.cert_expiry.set(leaf.not_valid_after_utc.timestamp())
    finder = DiscoveryFinder(build_source(config), metrics)
    spool = AccountingSpool(Path(config.spool))
    return AnpServer(build_core(config), RadSecTransport(pool), finder, spool, config.request_timeout, metrics)
