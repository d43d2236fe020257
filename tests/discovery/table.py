"""An in-memory DNS for core tests: a table from (name, type) to Answer; anything else is NXDOMAIN."""

from __future__ import annotations

from tsunagaru.discovery import (
    Answer,
    DiscoveryResult,
    Naptr,
    Query,
    RRType,
    Service,
    Srv,
    Status,
    discover,
    run_sync,
)

AUTH = Service.AUTH.value
ACCT = Service.ACCT.value


def naptr(replacement: str, order: int = 50, preference: int = 50, flags: str = "s", service: str = AUTH,
          regexp: str = "") -> Naptr:
    return Naptr(order, preference, flags, service, regexp, replacement)


class Table:
    def __init__(self) -> None:
        self.answers: dict[tuple[str, RRType], Answer] = {}
        self.asked: list[Query] = []

    def add(self, name: str, rdtype: RRType, *records: Naptr | Srv | str, ttl: int = 300) -> Table:
        self.answers[(name, rdtype)] = Answer.ok(tuple(records), ttl)
        return self

    def set(self, name: str, rdtype: RRType, answer: Answer) -> Table:
        self.answers[(name, rdtype)] = answer
        return self

    def answer(self, query: Query) -> Answer:
        self.asked.append(query)
        return self.answers.get((query.name, query.rdtype), Answer(Status.NXDOMAIN))

    def resolve(self, realm: str, service: Service = Service.AUTH) -> DiscoveryResult:
        return run_sync(discover(realm, service), self.answer)


def simple(realm: str = "idp.example", port: int = 2083,
           ttls: tuple[int, int, int] = (300, 300, 300)) -> Table:
    """The usual chain: one NAPTR -> one SRV -> one A."""
    srv = f"_radsec._tcp.{realm}."
    return (Table()
            .add(realm, RRType.NAPTR, naptr(srv), ttl=ttls[0])
            .add(srv.rstrip("."), RRType.SRV, Srv(0, 10, port, f"{realm}."), ttl=ttls[1])
            .add(realm, RRType.A, "192.0.2.1", ttl=ttls[2]))
