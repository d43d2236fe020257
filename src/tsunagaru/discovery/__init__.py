"""RFC 7585 dynamic peer discovery: realm -> NAPTR -> SRV -> A/AAAA -> RadSec targets.

Pure core (:func:`discover`, a generator of DNS queries), a TTL cache (:class:`RouteCache`), and
sources behind one interface, ``await source.resolve(realm, service, now)``: :class:`DnsSource` (live
DNS), :class:`ZoneFileSource` (a zone file, for the demo), :class:`CachedSource` (a cache in front).

Outcomes:
  Route           targets in failover order, TTL, ``explain`` lines for operators
  RealmNotFound   DNS says there is no usable route (negative, cached)
  DiscoveryError  raised: DNS did not answer (SERVFAIL, REFUSED, timeout) -- transient, not cached
  InvalidRealm    raised: the realm is not RFC 7542 syntax -- nothing was looked up
"""

from tsunagaru.discovery.cache import CachedSource, CachePolicy, RouteCache
from tsunagaru.discovery.core import MAX_SRV_NAMES, MAX_TARGETS, Lookup, discover
from tsunagaru.discovery.model import (
    Answer,
    DiscoveryError,
    DiscoveryResult,
    Naptr,
    Query,
    RealmNotFound,
    Route,
    RRType,
    Service,
    Srv,
    Status,
    Target,
)
from tsunagaru.discovery.names import (
    InvalidName,
    InvalidRealm,
    rewrite_3gpp,
    safe_text,
    validate_host,
    validate_port,
    validate_realm,
    validate_service_name,
)
from tsunagaru.discovery.ordering import failover_order, weighted_order
from tsunagaru.discovery.resolver import DnsSource
from tsunagaru.discovery.source import DiscoverySource, run, run_sync
from tsunagaru.discovery.zonefile import ZoneFileError, ZoneFileSource, demo_zone_text

__all__ = [
    "MAX_SRV_NAMES",
    "MAX_TARGETS",
    "Answer",
    "CachePolicy",
    "CachedSource",
    "DiscoveryError",
    "DiscoveryResult",
    "DiscoverySource",
    "DnsSource",
    "InvalidName",
    "InvalidRealm",
    "Lookup",
    "Naptr",
    "Query",
    "RRType",
    "RealmNotFound",
    "Route",
    "RouteCache",
    "Service",
    "Srv",
    "Status",
    "Target",
    "ZoneFileError",
    "ZoneFileSource",
    "demo_zone_text",
    "discover",
    "failover_order",
    "rewrite_3gpp",
    "run",
    "run_sync",
    "safe_text",
    "validate_host",
    "validate_port",
    "validate_realm",
    "validate_service_name",
    "weighted_order",
]
