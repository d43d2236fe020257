"""Build a running ANP from its configuration: RadSec pool, discovery, spool, metrics, listeners.

Also the :class:`RadSecTransport` that adapts the RadSec pool to the ANP's :class:`Transport`
interface, and the trust checks: every upstream peer passes the federation PKI check (with the CRLs
also loaded into the TLS context); a discovered peer's certificate must name the request's realm when
it has NAIRealm SANs (otherwise the SRV target name checked at the handshake stands in, logged once per
peer and counted; ``require_nai_realm`` makes it strict); access points that speak RadSec are checked
against the AP roots and CRLs (never the federation roots) and identified by their certificate.
:func:`build_server` does everything short of binding ports, so ``anp check-config`` runs it too.
"""

from __future__ import annotations

import logging
import ssl
from collections import OrderedDict
from pathlib import Path

from cryptography import x509

from tsunagaru.anp.activity import ActivityRecorder
from tsunagaru.anp.clients import ClientRegistry
from tsunagaru.anp.config import AnpConfig
from tsunagaru.anp.core import AnpCore
from tsunagaru.anp.finder import DiscoveryFinder
from tsunagaru.anp.metrics import AnpMetrics
from tsunagaru.anp.routing import PeerAddress, Router
from tsunagaru.anp.server import AnpServer
from tsunagaru.anp.spool import open_spool
from tsunagaru.discovery import CachedSource, CachePolicy, DnsSource, RouteCache, ZoneFileSource
from tsunagaru.discovery.source import DiscoverySource
from tsunagaru.ops.idp_peers import PeerTable, StateOf
from tsunagaru.pki.names import nai_realms, name_matches
from tsunagaru.radius import Packet
from tsunagaru.radsec import (
    Peer,
    PeerInfo,
    PeerPool,
    RadSecClient,
    RadSecError,
    RequestTimeout,
    VerifyPeer,
    all_of,
    client_context,
    refuse_own_certificate,
    server_context,
)
from tsunagaru.radsec.client import Done
from tsunagaru.radsec.federation import TrustFiles, federation_check, load_crls

log = logging.getLogger("tsunagaru.anp")


def realm_matches(pattern: str, realm: str) -> bool:
    """A NAIRealm SAN against a realm: exact, or ``*.suffix`` for any realm below suffix (one label or
    more, as the WBA writes realms of a whole operator: ``*.mnc001.mcc440.3gppnetwork.org``)."""
    pattern, realm = pattern.lower().rstrip("."), realm.lower().rstrip(".")
    if pattern.startswith("*."):
        return realm.endswith(pattern[1:]) and len(realm) > len(pattern) - 1
    return pattern == realm


class RadSecTransport:
    """The ANP's :class:`Transport` over a :class:`PeerPool`: RadSec errors become the two failures the
    failover logic knows (ConnectionError, TimeoutError), and a discovered peer is checked against the
    request's realm (NAIRealm) on the connection it is sent on."""

    def __init__(self, pool: PeerPool, metrics: AnpMetrics | None = None, *, require_nai_realm: bool = False) -> None:
        self.pool = pool
        self.metrics = metrics
        self.require_nai_realm = require_nai_realm
        self._realms: OrderedDict[bytes, tuple[str, ...]] = OrderedDict()  # leaf DER -> NAIRealms (bounded)
        self._fell_back: OrderedDict[tuple[str, int], None] = OrderedDict()  # peers logged once (bounded)
        self._targets: dict[PeerAddress, Peer] = {}

    def _peer(self, peer: PeerAddress) -> Peer:
        """One Peer per PeerAddress, not one per request (bounded: peers come from DNS); the same object
        each time, so the pool's dictionary finds its slot by identity, without comparing fields."""
        target = self._targets.get(peer)
        if target is None:
            if len(self._targets) >= 10_000:
                self._targets.clear()
            target = self._targets[peer] = Peer(peer.host, peer.port, peer.name)
        return target

    def is_up(self, peer: PeerAddress) -> bool:
        return self.pool.is_up(self._peer(peer))

    async def send(self, peer: PeerAddress, packet: Packet, timeout: float) -> tuple[Packet, Packet]:
        realm = peer.realm
        authorize = None if realm is None else (lambda client: self.authorize(client, peer, realm))
        try:
            reply = await self.pool.request(self._peer(peer), packet, timeout=timeout, authorize=authorize)
        except RequestTimeout as exc:
            raise TimeoutError(str(exc)) from exc
        except RadSecError as exc:
            raise ConnectionError(str(exc)) from exc
        return packet, reply

    def try_send(self, peer: PeerAddress, packet: Packet, timeout: float, done: Done) -> bool:
        """Forward on a callback when a connection is ready (see :meth:`PeerPool.try_send`): ``done`` gets
        (reply, None) or (None, a RadSecError: RequestTimeout, ConnectionClosed). False: use :meth:`send`."""
        realm = peer.realm
        authorize = None if realm is None else (lambda client: self.authorize(client, peer, realm))
        return self.pool.try_send(self._peer(peer), packet, done, timeout=timeout, authorize=authorize)

    def authorize(self, client: RadSecClient, peer: PeerAddress, realm: str) -> str | None:
        """None when the connection's certificate may answer for ``realm``, else why not."""
        leaf = client.chain[0] if client.chain else b""
        realms = self._nai_realms(leaf)
        if realms:
            if any(realm_matches(r, realm) for r in realms):
                return None
            return f"the certificate of {peer.host}:{peer.port} names realms {', '.join(realms)}, not {realm}"
        if self.require_nai_realm:
            return f"the certificate of {peer.host}:{peer.port} has no NAIRealm and require_nai_realm is set"
        key = (peer.host, peer.port)
        if key not in self._fell_back:
            self._fell_back[key] = None
            if len(self._fell_back) > 10_000:
                self._fell_back.popitem(last=False)
            if self.metrics is not None:
                self.metrics.name_fallbacks.inc()
            log.warning("radsec: the certificate of %s:%s has no NAIRealm; realm %s accepted on the SRV target "
                        "name %s (set discovery.require_nai_realm = true to refuse)", peer.host, peer.port, realm,
                        peer.name)
        return None

    def _nai_realms(self, leaf: bytes) -> tuple[str, ...]:
        found = self._realms.get(leaf)
        if found is None:
            try:
                found = tuple(nai_realms(x509.load_der_x509_certificate(leaf))) if leaf else ()
            except ValueError:
                found = ()
            self._realms[leaf] = found
            if len(self._realms) > 1024:
                self._realms.popitem(last=False)
        return found

    async def close(self) -> None:
        await self.pool.close()


def build_pool(config: AnpConfig, metrics: AnpMetrics | None = None) -> PeerPool:
    tls = config.tls
    if tls.certificate is None or tls.key is None or not tls.roots:
        raise ValueError("tls.certificate, tls.key and tls.roots are needed to reach identity providers")
    roots_file = tls.roots[0]
    ctx = client_context(certfile=tls.certificate, keyfile=tls.key, cafile=roots_file, check_hostname=False)
    for extra in tls.roots[1:]:
        ctx.load_verify_locations(cafile=str(extra))
    ctx.verify_mode = ssl.CERT_REQUIRED
    load_crls(ctx, tls.crls, whole_chain=tls.require_crl)
    trust = TrustFiles(tls.roots, tls.crls, (tls.certificate,), require_crl=tls.require_crl)
    trust.contexts.append(ctx)
    hook = all_of(refuse_own_certificate(tls.certificate), federation_check(trust, "server"))
    pinned = {Peer(p.host, p.port, p.name) for r in config.routes for p in (*r.peers, *r.accounting_peers)}

    def forgotten(peer: Peer) -> None:
        if metrics is not None:
            metrics.forget_peer(peer.host, peer.port)
            metrics.peers_given_up.inc()

    return PeerPool(ctx, verify_peer=hook, request_timeout=config.request_timeout,
                    connect_timeout=min(10.0, max(1.0, config.request_timeout)), max_peers=config.pool.max_peers,
                    slot_idle=config.pool.idle_timeout, give_up_after=config.pool.give_up, pinned=pinned,
                    on_forget=forgotten)


def build_ap_context(config: AnpConfig) -> ssl.SSLContext:
    """TLS for access points that connect with RadSec: our AP-side certificate (serverAuth; by default the
    federation one, which then needs the hub role), the APs' own CAs and their CRLs. The federation roots
    are never trusted for APs: a federation member is not one of our access points."""
    tls = config.tls
    roots = tls.ap_roots
    certificate, key = (tls.ap_certificate, tls.ap_key) if tls.ap_certificate else (tls.certificate, tls.key)
    if certificate is None or not roots:
        raise ValueError("anp.listen_radsec needs tls.ap_roots (the APs' CAs) and tls.ap_certificate or "
                         "tls.certificate")
    ctx = server_context(certfile=certificate, keyfile=key, cafile=roots[0])
    for extra in roots[1:]:
        ctx.load_verify_locations(cafile=str(extra))
    load_crls(ctx, tls.ap_crls)
    return ctx


def build_ap_verify(config: AnpConfig) -> VerifyPeer:
    """The AP certificate check after the handshake: AP roots, clientAuth, CRLs (no federation policy OID)."""
    trust = TrustFiles(config.tls.ap_roots, config.tls.ap_crls, require_policy=False)
    return federation_check(trust, "client")


class ClientLookup:
    """Which configured client a RadSec AP is, by the SAN dNSName of its certificate (``certificate_name``)."""

    def __init__(self, registry: ClientRegistry) -> None:
        self.named = [(c.certificate_name, c.name) for c in registry.clients if c.certificate_name]

    def __call__(self, peer: PeerInfo) -> str | None:
        for pattern, name in self.named:
            if any(name_matches(pattern, n) for n in peer.names):
                return name
        return None


def build_source(config: AnpConfig) -> CachedSource:
    d = config.discovery
    source: DiscoverySource
    if d.zone_file is not None:
        source = ZoneFileSource.from_file(d.zone_file)
    elif d.nameservers:
        source = DnsSource([n.host for n in d.nameservers], timeout=d.timeout,
                           ports={n.host: n.port for n in d.nameservers})  # each its own port
    else:
        source = DnsSource(timeout=d.timeout)
    policy = CachePolicy(floor=int(d.ttl_floor), ceiling=int(d.ttl_ceiling), negative_default=int(d.negative_ttl))
    return CachedSource(source, RouteCache(policy))


def build_core(config: AnpConfig) -> AnpCore:
    router = Router(list(config.routes), list(config.allow), list(config.deny), config.discovery.enabled)
    return AnpCore(ClientRegistry.of(config.clients), router, config.decoration,
                   disaster_realms=config.disaster_realms)


def build_server(config: AnpConfig, metrics: AnpMetrics | None = None, worker: int | None = None,
                 workers: int = 1) -> AnpServer:
    """Everything ``anp run`` needs short of binding ports: certificates and keys loaded, the pool, the
    discovery source, the spool opened. Raises ValueError, OSError, ssl.SSLError or PkiError.
    ``worker``: this pre-fork worker's index (of ``workers``): its own spool file (``spool.wN``)."""
    metrics = metrics or AnpMetrics()
    pool = build_pool(config, metrics)
    metrics.pool_peers.set_function(lambda: pool.peers)
    metrics.pool_errors.set_function(lambda: pool.errors)
    if config.tls.certificate is not None:
        leaf = x509.load_pem_x509_certificate(config.tls.certificate.read_bytes())
        metrics.cert_expiry.set(leaf.not_valid_after_utc.timestamp())
    ap_verify = None
    if config.radsec is not None:
        build_ap_context(config)  # fails here, not at the first AP, when its files are wrong
        ap_verify = build_ap_verify(config)
    finder = DiscoveryFinder(build_source(config), metrics)
    spool = open_spool(Path(config.spool), worker, workers, max_pending=config.spool_max_pending,
                       max_age=config.spool_max_age)
    core = build_core(config)
    transport = RadSecTransport(pool, metrics, require_nai_realm=config.discovery.require_nai_realm)
    activity = build_activity(config)
    if activity is not None:
        node = config.node if worker is None else f"{config.node}/w{worker}"  # each worker has its own pool
        activity.watch_peers(PeerTable(node, config.activity_interval, max_rows=config.peer_rows),
                             pool_states(pool))
    return AnpServer(core, transport, finder, spool, config.request_timeout, metrics, ap_verify=ap_verify,
                     ap_client=ClientLookup(core.clients), activity=activity)


def pool_states(pool: PeerPool) -> StateOf:
    """The pool's view of a peer for the peer table: up/suspect/down, None when it keeps no slot for it."""
    def state_of(host: str, port: int, name: str | None) -> str | None:
        state = pool.known_state(Peer(host, port, name))
        return None if state is None else state.value
    return state_of


def build_activity(config: AnpConfig) -> ActivityRecorder | None:
    """The per-AP activity recorder when ``anp.activity_db`` is set: the store is opened (and migrated)
    here, so a wrong URL fails ``check-config`` too; the hash key is made 0600 on first start. It also
    publishes the RadSec peers' states (``build_server`` wires the pool in)."""
    if config.activity_db is None:
        return None
    from tsunagaru.ops.activity import IdentityHasher
    from tsunagaru.secretfile import read_or_create_key
    from tsunagaru.store.engine import Store
    from tsunagaru.store.ops_writer import SqlActivityWriter

    store = Store.open(config.activity_db)
    hasher = IdentityHasher(read_or_create_key(config.activity_key_file))
    return ActivityRecorder(SqlActivityWriter(store), hasher, interval_s=config.activity_interval)
