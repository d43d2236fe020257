"""Realm -> RadSec peers through RFC 7585 discovery, as the ANP's :class:`PeerFinder`.

Targets come in failover order (priority, then RFC 2782 weights); each address of a target becomes a
peer whose certificate must name the SRV target host (checked by the RadSec layer against SANs).
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
    def __init__(self, source: CachedSource, metrics: AnpMetrics | None = None,
                 rng: random.Random | None = None) -> None:
        self.source = source
        self.metrics = metrics
        self.rng = rng or random.Random()

    async def peers(self, realm: str, accounting: bool) -> Sequence[PeerAddress]:
        service = Service.ACCT if accounting else Service.AUTH
        before = self.source.cache.stats().get("hits", 0)
        try:
            result = await self.source.resolve(realm, service, time.monotonic())
        except InvalidRealm as exc:
            raise UpstreamError(RejectReason.INVALID_IDENTITY, f"realm is not valid: {exc.reason}") from None
        except DiscoveryError as exc:
            raise UpstreamError(RejectReason.BACKEND_FAILURE, f"DNS lookup for {realm} failed: {exc}") from None
        finally:
            if self.metrics is not None:
                hit = self.source.cache.stats().get("hits", 0) > before
                self.metrics.discovery.labels("hit" if hit else "miss").inc()
        if isinstance(result, RealmNotFound):
            raise UpstreamError(RejectReason.INVALID_IDENTITY, f"realm {realm} not found ({result.reason})")
        return [PeerAddress(address, target.port, target.host)
                for target in result.weighted(self.rng) for address in target.addresses]
