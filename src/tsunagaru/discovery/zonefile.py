"""Discovery from a standard master-file zone, for the offline demo (no DNS server needed).

The demo writes :func:`demo_zone_text` to a file and serves ``idp.tsunagaru.test`` from it; the same
file could be loaded by any authoritative server, so what the demo shows is what DNS would say.
A file dnspython cannot read is one :class:`ZoneFileError` naming the problem (fuzzed:
``fuzz/fuzz_zonefile.py``), so the ANP's start-up says what is wrong in one line.
"""

from __future__ import annotations

import ipaddress
from os import PathLike

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.zone

from tsunagaru.discovery.core import discover
from tsunagaru.discovery.dnsdata import answer_from_rdataset, soa_negative_ttl
from tsunagaru.discovery.model import Answer, DiscoveryResult, Query, Service, Status
from tsunagaru.discovery.names import validate_port, validate_realm
from tsunagaru.discovery.source import run_sync

__all__ = ["ZoneFileError", "ZoneFileSource", "demo_zone_text"]


class ZoneFileError(ValueError):
    """The zone file is not a master file dnspython accepts (the message says where and why)."""


#: The directives a discovery zone needs. Not ``$GENERATE``: one line of it makes as many records as its
#: range says, without a bound (``1-100000`` took 8 CPU-seconds, a range to 4e9 would exhaust memory; seen
#: while profiling fuzz_zonefile); not ``$INCLUDE`` (reads other files) nor ``$UNICODE``.
DIRECTIVES = ("$ORIGIN", "$TTL")


class ZoneFileSource:
    """Answers the core's queries from one zone held in memory. Names outside the zone are NXDOMAIN."""

    def __init__(self, zone: dns.zone.Zone) -> None:
        self.zone = zone
        soa = zone.get_rdataset(zone.origin or dns.name.root, dns.rdatatype.SOA)
        self._negative_ttl = soa_negative_ttl([soa]) if soa is not None else None

    @classmethod
    def from_file(cls, path: str | PathLike[str], origin: str | None = None) -> ZoneFileSource:
        """Read a master file (``$ORIGIN`` in the file, or ``origin``); raises ZoneFileError or OSError."""
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as exc:
            raise ZoneFileError(f"{path}: not UTF-8 text (octet {exc.start})") from None
        return cls.from_text(text, origin, name=str(path))

    @classmethod
    def from_text(cls, text: str, origin: str | None = None, name: str = "zone") -> ZoneFileSource:
        try:
            return cls(dns.zone.from_text(text, origin=origin, relativize=False, allow_directives=DIRECTIVES))
        # AssertionError: dnspython asserts an origin where a file has neither $ORIGIN nor a first name
        except (dns.exception.DNSException, ValueError, KeyError, TypeError, AttributeError, AssertionError) as exc:
            raise ZoneFileError(f"{name}: {type(exc).__name__}: {exc or 'no $ORIGIN'}") from None

    async def resolve(self, realm: str, service: Service = Service.AUTH, now: float = 0.0) -> DiscoveryResult:
        """Look the realm up in the zone. ``now`` is accepted for the common interface."""
        return run_sync(discover(realm, service), self.answer)

    def answer(self, query: Query) -> Answer:
        name = dns.name.from_text(query.name)
        origin = self.zone.origin
        node = self.zone.get_node(name) if origin is not None and name.is_subdomain(origin) else None
        if node is None:
            return Answer(Status.NXDOMAIN, negative_ttl=self._negative_ttl)
        rdataset = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.from_text(query.rdtype.value))
        if rdataset is None:
            return Answer(Status.NODATA, negative_ttl=self._negative_ttl)
        return answer_from_rdataset(rdataset)


def demo_zone_text(realm: str = "idp.tsunagaru.test", host: str = "127.0.0.1", port: int = 2083) -> str:
    """A zone for ``realm`` with the RFC 7585 records of one RadSec server at ``host`` (an address)
    and ``port``: NAPTR for authentication and accounting -> ``_radsec._tcp.REALM`` SRV -> A or AAAA."""
    origin = validate_realm(realm)
    port = validate_port(port)
    address = ipaddress.ip_address(host)
    rdtype = "A" if address.version == 4 else "AAAA"
    return "\n".join([
        f"; RFC 7585 discovery records for {origin} (Tsunagaru demo)",
        f"$ORIGIN {origin}.",
        "$TTL 300",
        f"@ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 60",
        f"@ IN NS ns.{origin}.",
        f"ns IN {rdtype} {address}",
        f'@ IN NAPTR 50 50 "s" "{Service.AUTH.value}" "" _radsec._tcp.{origin}.',
        f'@ IN NAPTR 50 50 "s" "{Service.ACCT.value}" "" _radsec._tcp.{origin}.',
        f"_radsec._tcp IN SRV 0 10 {port} {origin}.",
        f"@ IN {rdtype} {address}",
        "",
    ])
