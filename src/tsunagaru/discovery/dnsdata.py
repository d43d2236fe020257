"""dnspython data -> the core's plain records. Shared by the live resolver and the zone-file source.

Names are turned into text with dnspython's escaping (``\\"``, ``\\.``, ``\\123``), so a label holding a
dot or a control byte can never pass the validators as something harmless.
"""

from __future__ import annotations

from collections.abc import Iterable

import dns.message
import dns.rdata
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rdtypes.IN.NAPTR
import dns.rdtypes.IN.SRV

from tsunagaru.discovery.model import Answer, Naptr, Record, Srv

__all__ = ["answer_from_rdataset", "negative_ttl", "soa_negative_ttl"]


def _text(value: bytes) -> str:
    return value.decode("ascii", errors="backslashreplace")


def _record(rdata: dns.rdata.Rdata) -> Record | None:
    if isinstance(rdata, dns.rdtypes.IN.NAPTR.NAPTR):
        return Naptr(rdata.order, rdata.preference, _text(rdata.flags), _text(rdata.service),
                     _text(rdata.regexp), rdata.replacement.to_text())
    if isinstance(rdata, dns.rdtypes.IN.SRV.SRV):
        return Srv(rdata.priority, rdata.weight, rdata.port, rdata.target.to_text())
    if rdata.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        return str(getattr(rdata, "address", ""))
    return None


def answer_from_rdataset(rdataset: dns.rdataset.Rdataset, ttl: int | None = None) -> Answer:
    """An OK (or NODATA, if empty) answer; ``ttl`` overrides the rdataset's (a CNAME chain's minimum)."""
    records = tuple(r for r in (_record(rd) for rd in rdataset) if r is not None)
    return Answer.ok(records, rdataset.ttl if ttl is None else ttl)


def soa_negative_ttl(rdatasets: Iterable[dns.rdataset.Rdataset]) -> int | None:
    """RFC 2308 section 5: the negative TTL is the smaller of the SOA's TTL and its MINIMUM field."""
    for rdataset in rdatasets:
        for rdata in rdataset:
            if isinstance(rdata, dns.rdtypes.ANY.SOA.SOA):
                return min(rdataset.ttl, rdata.minimum)
    return None


def negative_ttl(responses: Iterable[dns.message.Message]) -> int | None:
    """The negative TTL from the SOA in the authority section of any of ``responses``."""
    for response in responses:
        found = soa_negative_ttl(response.authority)
        if found is not None:
            return found
    return None
