"""Live DNS for discovery: dnspython's async resolver answers the core's queries.

By default the system resolver (``/etc/resolv.conf``) is used; give ``nameservers`` and ``port`` to ask
one server explicitly (tests point it at a private dnsmasq on 127.0.0.1). dnspython's own cache stays
off: :class:`tsunagaru.discovery.cache.CachedSource` caches whole routes with clamped TTLs instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver

from tsunagaru.discovery.core import discover
from tsunagaru.discovery.dnsdata import answer_from_rdataset, negative_ttl
from tsunagaru.discovery.model import Answer, DiscoveryResult, Query, Service, Status
from tsunagaru.discovery.source import run

__all__ = ["DnsSource"]


class DnsSource:
    """RFC 7585 discovery over DNS. ``timeout`` bounds each DNS lookup (all retries included); one
    discovery makes at most three rounds of concurrent lookups (NAPTR, SRV, A/AAAA)."""

    def __init__(self, nameservers: Sequence[str] | None = None, port: int = 53,
                 timeout: float = 3.0, ports: Mapping[str, int] | None = None) -> None:
        """``ports`` gives a nameserver its own port (``port`` is for the others)."""
        if nameservers is None:
            self._resolver = dns.asyncresolver.Resolver()
        else:
            self._resolver = dns.asyncresolver.Resolver(configure=False)
            self._resolver.nameservers = list(nameservers)
        self._resolver.port = port
        if ports:
            self._resolver.nameserver_ports = dict(ports)
        # each server gets its share of the lookup's time, so a dead first nameserver leaves time for the next
        self._resolver.timeout = timeout / max(1, len(self._resolver.nameservers))
        self._resolver.lifetime = timeout
        self.timeout = timeout

    async def resolve(self, realm: str, service: Service = Service.AUTH, now: float = 0.0) -> DiscoveryResult:
        """Look the realm up now (no cache). ``now`` is accepted for the common interface."""
        return await run(discover(realm, service), self.answer)

    async def answer(self, query: Query) -> Answer:
        """One DNS query, its outcome as an :class:`Answer` (errors become ``Status.FAILED``)."""
        qname = dns.name.from_text(query.name)  # absolute: no search list is ever applied
        rdtype = dns.rdatatype.from_text(query.rdtype.value)
        try:
            found = await self._resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False,
                                                 lifetime=self.timeout)
        except dns.resolver.NXDOMAIN as error:
            responses: dict[dns.name.Name, dns.message.Message] = error.responses()  # type: ignore[no-untyped-call]
            return Answer(Status.NXDOMAIN, negative_ttl=negative_ttl(responses.values()))
        except dns.exception.Timeout:
            return Answer(Status.FAILED, error=f"no answer within {self.timeout:g} s")
        except dns.resolver.NoNameservers:
            return Answer(Status.FAILED, error="the DNS server failed or refused (SERVFAIL/REFUSED)")
        except (dns.exception.DNSException, OSError) as error:
            return Answer(Status.FAILED, error=f"{type(error).__name__}: {error}")
        if found.rrset is None:
            return Answer(Status.NODATA, negative_ttl=negative_ttl([found.response]))
        return answer_from_rdataset(found.rrset, min(found.rrset.ttl, found.chaining_result.minimum_ttl))
