"""RadSec (RADIUS over TLS, RFC 6614 / draft-ietf-radext-radiusdtls-bis).

Sans-IO parts (time is an argument): :class:`StreamFramer`, :class:`RequestTracker`,
:class:`Watchdog`, :class:`Backoff`, :class:`IdleTimer`, :class:`ClientSession`, :class:`ServerSession`.
asyncio adapters: :class:`RadSecClient` (one connection), :class:`PeerPool` (connections per peer,
peer state for failover), :class:`RadSecServer` (listener). TLS contexts: :func:`client_context`,
:func:`server_context`; certificate policy plugs in as ``verify_peer(chain_der, peer_info)``.

::

    ctx = client_context(certfile=..., keyfile=..., cafile=...)
    pool = PeerPool(ctx)
    reply = await pool.request(Peer("192.0.2.7", 2083, "idp.example"), access_request)
"""

from tsunagaru.radsec.client import RadSecClient
from tsunagaru.radsec.errors import (
    ConnectionClosed,
    FramingError,
    IdentifiersExhausted,
    PeerRefused,
    PeerUnavailable,
    ProtocolViolation,
    RadSecError,
    RequestTimeout,
)
from tsunagaru.radsec.framing import StreamFramer
from tsunagaru.radsec.pool import Peer, PeerPool
from tsunagaru.radsec.server import Handler, RadSecServer
from tsunagaru.radsec.session import RADSEC_SECRET, ClientSession, ServerSession
from tsunagaru.radsec.tls import (
    ALPN_RADIUS,
    PeerInfo,
    VerifyPeer,
    all_of,
    client_context,
    peer_chain,
    refuse_own_certificate,
    server_context,
)
from tsunagaru.radsec.tracker import RequestTracker
from tsunagaru.radsec.watchdog import Backoff, IdleTimer, PeerState, Watchdog, WatchdogAction, WatchdogConfig

__all__ = [
    "ALPN_RADIUS",
    "RADSEC_SECRET",
    "Backoff",
    "ClientSession",
    "ConnectionClosed",
    "FramingError",
    "Handler",
    "IdentifiersExhausted",
    "IdleTimer",
    "Peer",
    "PeerInfo",
    "PeerPool",
    "PeerRefused",
    "PeerState",
    "PeerUnavailable",
    "ProtocolViolation",
    "RadSecClient",
    "RadSecError",
    "RadSecServer",
    "RequestTimeout",
    "RequestTracker",
    "ServerSession",
    "StreamFramer",
    "VerifyPeer",
    "Watchdog",
    "WatchdogAction",
    "WatchdogConfig",
    "all_of",
    "client_context",
    "peer_chain",
    "refuse_own_certificate",
    "server_context",
]
