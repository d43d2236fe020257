"""Realm -> RadSec peers through RFC 7585 discovery, as the ANP's :class:`PeerFinder`.

Targets come in failover order (priority, then RFC 2782 weights); each address of a target becomes a
peer whose certificate must name the SRV target host (checked by the RadSec layer against SANs) and,
when it carries NAIRealm SANs, the realm (checked per request by :class:`~tsunagaru.anp.wiring.RadSecTransport`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

from tsunagaru.anp.metrics import AnpMetrics
from tsunagaru.anp.routing import PeerAddress
from tsunagaru.anp.upstream import UpstreamError
from tsunagaru.discovery import CachedSource, DiscoveryError, InvalidRealm, RealmNotFound, Service
from tsunagaru.radius.reasons import RejectReason


class DiscoveryFinder:
    """The ANP's :class:`PeerFinder` over an RFC 7585 source with its route cache; counts cache hits."""

    def __init__(self, source: CachedSource, metrics: AnpMetrics | None = None,
                 rng: random.Random | None = None) -> None:
        self.source = source
        self.metrics = metrics
        self.rng = rng or random.Random()

    async def peers(self, realm: str, accounting: bool) -> Sequence[PeerAddress]:
        service = Service.ACCT if accounting else Service.AUTH
        now = time.monotonic()
        # Asked before the await: a shared hit counter compared across it is wrong when lookups overlap
        cached = self.source.cache.fresh(realm, service, now)
        try:
            result = await self.source.resolve(realm, service, now)
        except InvalidRealm as exc:
            raise UpstreamError(RejectReason.INVALID_IDENTITY, f"realm is not valid: {exc.reason}") from None
        except DiscoveryError as exc:
            raise UpstreamError(RejectReason.BACKEND_FAILURE, f"DNS lookup for {realm} failed: {exc}") from None
        finally:
            if self.metrics is not None:
                self.metrics.discovery.labels("hit" if cached else "miss").inc()
        if isinstance(result, RealmNotFound):
            raise UpstreamError(RejectReason.INVALID_IDENTITY, f"realm {realm} not found ({result.reason})")
        return [PeerAddress(address, target.port, target.host, realm)
                for target in result.weighted(self.rng) for address in target.addresses]
