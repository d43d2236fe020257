"""The data of discovery: DNS records as the core sees them, queries and answers, and the results.

The core never sees dnspython objects: adapters turn DNS data into these plain records, so the decision
logic can be tested with literals and driven by any source (live DNS, a zone file).
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field

from tsunagaru.discovery.ordering import weighted_order

__all__ = [
    "Answer",
    "DiscoveryError",
    "DiscoveryResult",
    "Naptr",
    "Query",
    "RRType",
    "RealmNotFound",
    "Route",
    "Service",
    "Srv",
    "Status",
    "Target",
]


class Service(enum.StrEnum):
    """NAPTR service tags of RFC 7585 for RADIUS over TLS."""

    AUTH = "aaa+auth:radius.tls.tcp"
    ACCT = "aaa+acct:radius.tls.tcp"


class RRType(enum.StrEnum):
    NAPTR = "NAPTR"
    SRV = "SRV"
    A = "A"
    AAAA = "AAAA"


class Status(enum.Enum):
    """How a DNS query ended. NXDOMAIN and NODATA are answers; FAILED is the absence of one."""

    OK = "ok"
    NXDOMAIN = "nxdomain"
    NODATA = "nodata"
    FAILED = "failed"


@dataclass(frozen=True)
class Naptr:
    """A NAPTR record (RFC 3403). Text fields are as received; the core decides what they mean."""

    order: int
    preference: int
    flags: str
    service: str
    regexp: str
    replacement: str


@dataclass(frozen=True)
class Srv:
    """An SRV record (RFC 2782); ``target`` unvalidated, as received."""

    priority: int
    weight: int
    port: int
    target: str


Record = Naptr | Srv | str  # str: an address from an A or AAAA record


@dataclass(frozen=True)
class Query:
    name: str
    rdtype: RRType

    def __str__(self) -> str:
        return f"{self.rdtype} {self.name}"


@dataclass(frozen=True)
class Answer:
    """What a source found for one query. ``ttl`` is the TTL of the records (OK answers);
    ``negative_ttl`` the RFC 2308 negative TTL (SOA minimum) when the source knows it."""

    status: Status
    records: tuple[Record, ...] = ()
    ttl: int = 0
    negative_ttl: int | None = None
    error: str = ""

    @classmethod
    def ok(cls, records: tuple[Record, ...], ttl: int) -> Answer:
        return cls(Status.OK if records else Status.NODATA, records, ttl)


class DiscoveryError(Exception):
    """DNS could not answer (SERVFAIL, REFUSED, timeout, network): transient, not a statement that the
    realm does not exist. ``explain`` holds the steps made before the failure."""

    def __init__(self, message: str, explain: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.explain = explain


@dataclass(frozen=True)
class Target:
    """One RadSec peer: where to connect, in failover order within a :class:`Route`."""

    host: str
    port: int
    priority: int
    weight: int
    addresses: tuple[str, ...]
    ttl: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port} [{', '.join(self.addresses)}]"


@dataclass(frozen=True)
class Route:
    """A positive result. ``targets`` are in deterministic failover order (priority, then heavier weight
    first, then name); call :meth:`weighted` per connection attempt for RFC 2782 load sharing.
    ``ttl`` is the minimum TTL along the chain NAPTR -> SRV -> A/AAAA, before any clamping."""

    realm: str
    service: Service
    targets: tuple[Target, ...]
    ttl: int
    explain: tuple[str, ...] = field(default=(), compare=False)
    refused: tuple[str, ...] = field(default=(), compare=False)
    lookup_name: str = ""

    def weighted(self, rng: random.Random) -> tuple[Target, ...]:
        """Targets by priority, each priority group in RFC 2782 weighted random order."""
        return weighted_order(self.targets, rng)


@dataclass(frozen=True)
class RealmNotFound:
    """A negative result: DNS says there is no usable RadSec route for the realm (no NAPTR, no matching
    NAPTR, or every record refused). ``ttl`` is the negative TTL from DNS when known (SOA minimum)."""

    realm: str
    service: Service
    reason: str
    ttl: int | None = None
    explain: tuple[str, ...] = field(default=(), compare=False)
    refused: tuple[str, ...] = field(default=(), compare=False)
    lookup_name: str = ""


DiscoveryResult = Route | RealmNotFound
