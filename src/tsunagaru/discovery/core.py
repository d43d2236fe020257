"""RFC 7585 discovery as a pure generator: it yields DNS queries and is sent the answers.

    lookup = discover("idp.example", Service.AUTH)
    queries = next(lookup)                 # (Query("idp.example", NAPTR),)
    queries = lookup.send(answers)         # one Answer per query, same order
    ...                                    # StopIteration.value is the DiscoveryResult

The chain is NAPTR (service, flag "s", empty regexp; lowest order only, as RFC 3403 says) -> SRV
(priority, weight; port and target validated) -> A and AAAA. Every step and every refusal is written
to ``explain`` for ``tsunagaru doctor realm``. Adapters (live DNS, zone file) only answer queries; see
:func:`tsunagaru.discovery.source.run` and :func:`~tsunagaru.discovery.source.run_sync`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Generator
from dataclasses import dataclass, field

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
    rewrite_3gpp,
    safe_text,
    validate_host,
    validate_port,
    validate_realm,
    validate_service_name,
)
from tsunagaru.discovery.ordering import failover_order

__all__ = ["MAX_SRV_NAMES", "MAX_TARGETS", "Lookup", "discover"]

Lookup = Generator[tuple[Query, ...], tuple[Answer, ...], DiscoveryResult]

# Bounds on the work one realm can cause: DNS data is not trusted to be small.
MAX_SRV_NAMES = 4
MAX_TARGETS = 16


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _negative(answer: Answer) -> str:
    return {Status.NXDOMAIN: "no such name (NXDOMAIN)", Status.NODATA: "no record"}.get(
        answer.status, f"lookup failed ({answer.error or 'no answer'})"
    )


@dataclass
class _Walk:
    """What one lookup has learnt so far."""

    realm: str
    service: Service
    lookup_name: str
    explain: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def say(self, line: str) -> None:
        self.explain.append(line)

    def refuse(self, where: str, what: str, error: InvalidName) -> None:
        line = f"{where}: refused {what}: {error.reason}"
        self.refused.append(line)
        self.say(line)

    def say_before(self, mark: int, line: str) -> None:
        """A summary line placed ahead of the details already said since ``mark``."""
        self.explain.insert(mark, line)

    def not_found(self, reason: str, ttl: int | None) -> RealmNotFound:
        self.say(f"result: realm not found: {reason}")
        return RealmNotFound(self.realm, self.service, reason, ttl, tuple(self.explain),
                             tuple(self.refused), self.lookup_name)

    def failed(self, reason: str) -> DiscoveryError:
        self.say(f"result: DNS failure: {reason}")
        return DiscoveryError(f"discovery of {self.realm} failed: {reason}", tuple(self.explain))


def discover(realm: str, service: Service | str = Service.AUTH) -> Lookup:
    """Start a lookup. Raises :class:`InvalidRealm` at once for a realm that is not RFC 7542 syntax."""
    name = validate_realm(realm)
    walk = _Walk(name, Service(service), rewrite_3gpp(name) or name)
    if walk.lookup_name != name:
        walk.say(f"realm {name}: 3GPP realm, looked up as {walk.lookup_name} (no fallback to the original)")
    return _lookup(walk)


def _lookup(walk: _Walk) -> Lookup:
    (answer,) = yield (Query(walk.lookup_name, RRType.NAPTR),)
    srv_names = _pick_naptr(walk, answer)
    if isinstance(srv_names, RealmNotFound):
        return srv_names
    answers = yield tuple(Query(n, RRType.SRV) for n, _ in srv_names)
    candidates = _pick_srv(walk, srv_names, answers)
    if isinstance(candidates, RealmNotFound):
        return candidates
    hosts = sorted({c.host for c in candidates})
    answers = yield tuple(Query(h, t) for h in hosts for t in (RRType.A, RRType.AAAA))
    return _build_route(walk, candidates, dict(zip(hosts, zip(answers[::2], answers[1::2], strict=True),
                                                   strict=True)))


def _naptr_problem(record: Naptr, service: Service) -> str | None:
    if record.service.lower() != service.value:
        return "other service"
    if record.flags.lower() != "s":
        return f"flag {safe_text(record.flags)} is not 's'"
    if record.regexp:
        return f"regexp {safe_text(record.regexp)} is not empty"
    return None


def _pick_naptr(walk: _Walk, answer: Answer) -> list[tuple[str, int]] | RealmNotFound:
    """SRV names to query, each with the NAPTR TTL, in (order, preference) order."""
    where = f"NAPTR {walk.lookup_name}"
    if answer.status is Status.FAILED:
        raise walk.failed(f"{where}: {answer.error or 'no answer'}")
    records = [r for r in answer.records if isinstance(r, Naptr)]
    if not records:
        walk.say(f"{where}: {_negative(answer)}")
        return walk.not_found(f"no NAPTR record for {walk.lookup_name}", answer.negative_ttl)
    mark = len(walk.explain)
    usable: list[tuple[Naptr, str]] = []
    other = 0
    for record in sorted(records, key=lambda r: (r.order, r.preference)):
        problem = _naptr_problem(record, walk.service)
        if problem == "other service":
            other += 1
        elif problem is not None:
            walk.say(f"{where}: ignored a record for {walk.service.value}: {problem}")
        else:
            try:
                usable.append((record, validate_service_name(record.replacement)))
            except InvalidName as error:
                walk.refuse(where, f"replacement {safe_text(record.replacement)}", error)
    count = _plural(len(records), "record") + (f" ({other} for other services)" if other else "")
    if not usable:
        walk.say_before(mark, f"{where}: {count}, none usable for {walk.service.value}, TTL {answer.ttl} s")
        return walk.not_found(f"no usable NAPTR record for {walk.service.value} at {walk.lookup_name}",
                              answer.ttl)
    lowest = usable[0][0].order
    kept = [(r, n) for r, n in usable if r.order == lowest]
    if len(kept) < len(usable):
        walk.say(f"{where}: ignored {_plural(len(usable) - len(kept), 'record')} with order above {lowest}"
                 " (RFC 3403: only the lowest matching order is used)")
    names: list[str] = []
    for _, name in kept:
        if name not in names:
            names.append(name)
    if len(names) > MAX_SRV_NAMES:
        walk.say(f"{where}: only the first {MAX_SRV_NAMES} of {len(names)} SRV names are followed")
        names = names[:MAX_SRV_NAMES]
    arrows = ", ".join(f"{n} (order {r.order}, preference {r.preference})" for r, n in kept if n in names)
    walk.say_before(mark, f"{where}: {count}, {walk.service.value} -> {arrows}, TTL {answer.ttl} s")
    return [(n, answer.ttl) for n in names]


@dataclass(frozen=True)
class _Candidate:
    host: str
    port: int
    priority: int
    weight: int
    ttl: int


def _srv_candidates(walk: _Walk, where: str, answer: Answer, chain_ttl: int) -> list[_Candidate]:
    found: list[_Candidate] = []
    for record in (r for r in answer.records if isinstance(r, Srv)):
        if record.target in (".", ""):
            walk.say(f"{where}: target \".\": the service is decidedly not offered here (RFC 2782)")
            continue
        try:
            host, port = validate_host(record.target), validate_port(record.port)
        except InvalidName as error:
            walk.refuse(where, f"target {safe_text(record.target)} port {record.port}", error)
            continue
        found.append(_Candidate(host, port, record.priority, record.weight, min(chain_ttl, answer.ttl)))
    return found


def _pick_srv(walk: _Walk, names: list[tuple[str, int]], answers: tuple[Answer, ...]
              ) -> list[_Candidate] | RealmNotFound:
    candidates: list[_Candidate] = []
    failures: list[str] = []
    negative_ttls: list[int] = []
    for (name, naptr_ttl), answer in zip(names, answers, strict=True):
        where = f"SRV {name}"
        if answer.status is not Status.OK:
            walk.say(f"{where}: {_negative(answer)}")
            if answer.status is Status.FAILED:
                failures.append(f"{where}: {answer.error or 'no answer'}")
            elif answer.negative_ttl is not None:
                negative_ttls.append(answer.negative_ttl)
            continue
        mark = len(walk.explain)
        found = _srv_candidates(walk, where, answer, naptr_ttl)
        listing = ", ".join(f"{c.host}:{c.port} (priority {c.priority}, weight {c.weight})"
                            for c in found[:MAX_TARGETS])
        listing += f" and {len(found) - MAX_TARGETS} more" if len(found) > MAX_TARGETS else ""
        walk.say_before(mark, f"{where}: {_plural(len(answer.records), 'record')} ->"
                              f" {listing or 'no usable target'}, TTL {answer.ttl} s")
        candidates.extend(found)
    unique: list[_Candidate] = []
    seen: set[tuple[str, int]] = set()
    for candidate in failover_order(candidates):  # one entry per host:port, the best one
        if (candidate.host, candidate.port) not in seen:
            seen.add((candidate.host, candidate.port))
            unique.append(candidate)
    if not unique:
        if failures:  # a negative answer is cached: only give one when DNS answered every query
            raise walk.failed("; ".join(failures))
        return walk.not_found("no usable SRV target", min(negative_ttls, default=None))
    if len(unique) > MAX_TARGETS:
        walk.say(f"SRV: only the first {MAX_TARGETS} of {len(unique)} targets are used")
    return unique[:MAX_TARGETS]


def _addresses(answer: Answer, rdtype: RRType) -> tuple[tuple[str, ...], list[str]]:
    """Well-formed addresses of the right family, and the text of anything else (refused)."""
    version = 4 if rdtype is RRType.A else 6
    good: list[str] = []
    bad: list[str] = []
    for record in answer.records:
        try:
            address = ipaddress.ip_address(record) if isinstance(record, str) else None
        except ValueError:
            address = None
        if address is None or address.version != version:
            bad.append(safe_text(str(record)))
        elif str(address) not in good:
            good.append(str(address))
    return tuple(good), bad


def _resolve_host(walk: _Walk, host: str, pair: tuple[Answer, Answer]) -> tuple[tuple[str, ...], int | None]:
    """Addresses of one host (A first, then AAAA) and the minimum TTL of the address records used."""
    addresses: list[str] = []
    ttls: list[int] = []
    for rdtype, answer in zip((RRType.A, RRType.AAAA), pair, strict=True):
        where = f"{rdtype} {host}"
        good, bad = _addresses(answer, rdtype)
        for text in bad:
            reason = f"not an IPv{4 if rdtype is RRType.A else 6} address"
            walk.refuse(where, f"address {text}", InvalidName(text, reason))
        if good:
            addresses.extend(good)
            ttls.append(answer.ttl)
            walk.say(f"{where}: {', '.join(good)}, TTL {answer.ttl} s")
        elif not bad:
            walk.say(f"{where}: {_negative(answer)}")
    return tuple(addresses), min(ttls, default=None)


def _build_route(walk: _Walk, candidates: list[_Candidate], answers: dict[str, tuple[Answer, Answer]]
                 ) -> DiscoveryResult:
    resolved = {host: _resolve_host(walk, host, pair) for host, pair in answers.items()}
    targets: list[Target] = []
    for c in candidates:
        addresses, ttl = resolved[c.host]
        if ttl is None:
            walk.say(f"target {c.host}:{c.port}: dropped, it has no address")
            continue
        targets.append(Target(c.host, c.port, c.priority, c.weight, addresses, min(c.ttl, ttl)))
    if targets:
        return _route(walk, targets)
    pairs = [a for pair in answers.values() for a in pair]
    if any(a.status is Status.FAILED for a in pairs):
        raise walk.failed("no SRV target has an address, and some address lookups failed")
    return walk.not_found("no SRV target has an address",
                          min((a.negative_ttl for a in pairs if a.negative_ttl is not None), default=None))


def _route(walk: _Walk, targets: list[Target]) -> Route:
    ttl = min(t.ttl for t in targets)
    walk.say(f"result: route for {walk.realm} ({walk.service.value}): {_plural(len(targets), 'target')},"
             f" TTL {ttl} s (minimum along the chain)")
    for index, target in enumerate(targets, 1):
        walk.say(f"  {index}. {target} priority {target.priority}, weight {target.weight},"
                 f" TTL {target.ttl} s")
    return Route(walk.realm, walk.service, tuple(targets), ttl, tuple(walk.explain), tuple(walk.refused),
                 walk.lookup_name)
