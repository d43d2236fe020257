"""The pure decision logic, driven by an in-memory table of DNS answers."""

from __future__ import annotations

import pytest

from tests.discovery.table import ACCT, Table, naptr, simple
from tsunagaru.discovery import (
    MAX_TARGETS,
    Answer,
    DiscoveryError,
    InvalidRealm,
    Query,
    RealmNotFound,
    Route,
    RRType,
    Service,
    Srv,
    Status,
    discover,
)


def route(result: object) -> Route:
    assert isinstance(result, Route), result
    return result


def not_found(result: object) -> RealmNotFound:
    assert isinstance(result, RealmNotFound), result
    return result


def test_the_chain_and_its_explanation() -> None:
    table = simple()
    result = route(table.resolve("idp.example"))
    assert result.realm == "idp.example" and result.service is Service.AUTH
    [target] = result.targets
    assert (target.host, target.port, target.addresses) == ("idp.example", 2083, ("192.0.2.1",))
    assert result.explain[0] == ("NAPTR idp.example: 1 record, aaa+auth:radius.tls.tcp -> "
                                 "_radsec._tcp.idp.example (order 50, preference 50), TTL 300 s")
    assert result.explain[1].startswith("SRV _radsec._tcp.idp.example: 1 record -> idp.example:2083")
    assert "A idp.example: 192.0.2.1, TTL 300 s" in result.explain
    assert "AAAA idp.example: no such name (NXDOMAIN)" in result.explain
    assert result.explain[-1] == "  1. idp.example:2083 [192.0.2.1] priority 0, weight 10, TTL 300 s"
    assert table.asked[0] == Query("idp.example", RRType.NAPTR)


def test_queries_are_batched_per_step() -> None:
    lookup = discover("idp.example")
    assert next(lookup) == (Query("idp.example", RRType.NAPTR),)
    srv = lookup.send((Answer.ok((naptr("_radsec._tcp.idp.example."),), 60),))
    assert srv == (Query("_radsec._tcp.idp.example", RRType.SRV),)
    addr = lookup.send((Answer.ok((Srv(0, 0, 2083, "b.example."), Srv(0, 0, 2083, "a.example.")), 60),))
    assert addr == tuple(Query(h, t) for h in ("a.example", "b.example") for t in (RRType.A, RRType.AAAA))


def test_realm_is_normalised_and_accounting_uses_its_own_naptr() -> None:
    table = simple()
    table.add("idp.example", RRType.NAPTR, naptr("_radsec._tcp.idp.example."),
              naptr("_acct._tcp.idp.example.", service=ACCT))
    table.add("_acct._tcp.idp.example", RRType.SRV, Srv(0, 0, 1813, "acct.idp.example."))
    table.add("acct.idp.example", RRType.A, "192.0.2.9")
    result = route(table.resolve("IDP.Example", Service.ACCT))
    assert result.realm == "idp.example"
    assert [(t.host, t.port) for t in result.targets] == [("acct.idp.example", 1813)]
    assert "(1 for other services)" in result.explain[0]


def test_invalid_realm_is_refused_before_any_query() -> None:
    with pytest.raises(InvalidRealm):
        discover("not a realm")


# -- NAPTR selection ----------------------------------------------------------------------------------

def test_naptr_order_then_preference_and_only_the_lowest_order() -> None:
    table = Table().add("idp.example", RRType.NAPTR,
                        naptr("_radsec._tcp.c.example.", order=20, preference=1),
                        naptr("_radsec._tcp.b.example.", order=10, preference=20),
                        naptr("_radsec._tcp.a.example.", order=10, preference=10))
    for name, host in (("a", "10.0.0.1"), ("b", "10.0.0.2"), ("c", "10.0.0.3")):
        table.add(f"_radsec._tcp.{name}.example", RRType.SRV, Srv(0, 0, 2083, f"{name}.example."))
        table.add(f"{name}.example", RRType.A, host)
    result = route(table.resolve("idp.example"))
    assert [t.host for t in result.targets] == ["a.example", "b.example"]
    assert any("order above 10" in line and "RFC 3403" in line for line in result.explain)
    srv_queries = [q.name for q in table.asked if q.rdtype is RRType.SRV]
    assert srv_queries == ["_radsec._tcp.a.example", "_radsec._tcp.b.example"]


@pytest.mark.parametrize(("record", "why"), [
    (naptr("_radsec._tcp.idp.example.", flags="a"), "flag 'a'"),
    (naptr("_radsec._tcp.idp.example.", flags="u"), "flag 'u'"),
    (naptr("", regexp="!^.*$!radsec.example!"), "regexp"),
    (naptr("_radsec._tcp.idp.example.", service="aaa+auth:radius.dtls.udp"), None),
])
def test_unusable_naptr_means_realm_not_found(record: object, why: str | None) -> None:
    table = simple().add("idp.example", RRType.NAPTR, record, ttl=120)  # type: ignore[arg-type]
    result = not_found(table.resolve("idp.example"))
    assert result.ttl == 120  # the NAPTR TTL: DNS answered, just not with anything usable
    assert "no usable NAPTR" in result.reason
    if why:
        assert any(why in line for line in result.explain)


def test_flag_and_service_are_case_insensitive() -> None:
    table = simple().add("idp.example", RRType.NAPTR,
                         naptr("_radsec._tcp.idp.example.", flags="S", service="AAA+AUTH:radius.tls.tcp"))
    assert route(table.resolve("idp.example")).targets


@pytest.mark.parametrize("status", [Status.NXDOMAIN, Status.NODATA])
def test_no_naptr_is_realm_not_found_with_the_soa_ttl(status: Status) -> None:
    table = Table().set("idp.example", RRType.NAPTR, Answer(status, negative_ttl=900))
    result = not_found(table.resolve("idp.example"))
    assert result.ttl == 900 and result.reason == "no NAPTR record for idp.example"
    assert result.explain[-1] == "result: realm not found: no NAPTR record for idp.example"


def test_dns_failure_is_an_error_not_a_negative() -> None:
    table = Table().set("idp.example", RRType.NAPTR, Answer(Status.FAILED, error="SERVFAIL"))
    with pytest.raises(DiscoveryError) as caught:
        table.resolve("idp.example")
    assert "SERVFAIL" in str(caught.value)
    assert caught.value.explain[-1].startswith("result: DNS failure")


def test_3gpp_realm_is_rewritten_without_fallback() -> None:
    original = "wlan.mnc001.mcc440.3gppnetwork.org"
    rewritten = "wlan.mnc001.mcc440.pub.3gppnetwork.org"
    table = simple(original)  # records exist only under the original name
    result = not_found(table.resolve(original))
    assert [q.name for q in table.asked] == [rewritten]
    assert result.realm == original and result.lookup_name == rewritten
    assert "3GPP" in result.explain[0]
    served = simple(rewritten)
    assert route(served.resolve(original)).realm == original


# -- SRV ----------------------------------------------------------------------------------------------

def test_srv_failover_order_by_priority_then_weight() -> None:
    table = Table().add("idp.example", RRType.NAPTR, naptr("_radsec._tcp.idp.example."))
    table.add("_radsec._tcp.idp.example", RRType.SRV,
              Srv(20, 0, 2083, "c.example."), Srv(10, 5, 2083, "b.example."),
              Srv(10, 50, 2083, "a2.example."), Srv(0, 0, 20830, "a.example."))
    for i, host in enumerate(("a", "a2", "b", "c")):
        table.add(f"{host}.example", RRType.A, f"10.0.0.{i + 1}")
    result = route(table.resolve("idp.example"))
    assert [(t.host, t.port, t.priority) for t in result.targets] == [
        ("a.example", 20830, 0), ("a2.example", 2083, 10), ("b.example", 2083, 10), ("c.example", 2083, 20)]


@pytest.mark.parametrize(("target", "port", "why"), [
    ("ev}il.example.", 2083, "character '}'"),
    ('ev\\"il.example.', 2083, "character '\\\\'"),  # dnspython's escaped text form of a quote
    ("evil.example.\nserver x {", 2083, "character '\\n'"),
    ("10.0.0.1.", 2083, "all digits"),
    ("good.example.", 0, "1..65535"),
])
def test_hostile_srv_targets_are_refused_with_a_reason(target: str, port: int, why: str) -> None:
    table = simple().add("_radsec._tcp.idp.example", RRType.SRV, Srv(0, 0, port, target),
                         Srv(10, 0, 2083, "idp.example."))
    result = route(table.resolve("idp.example"))
    assert [t.host for t in result.targets] == ["idp.example"]
    [refusal] = result.refused
    assert why in refusal and "refused" in refusal
    assert refusal in result.explain
    assert all(ch.isprintable() for line in result.explain for ch in line)


def test_only_hostile_targets_is_realm_not_found() -> None:
    table = simple().add("_radsec._tcp.idp.example", RRType.SRV, Srv(0, 0, 2083, "a{b}.example."))
    result = not_found(table.resolve("idp.example"))
    assert result.reason == "no usable SRV target" and len(result.refused) == 1
    assert not [q for q in table.asked if q.rdtype is RRType.A]


def test_hostile_naptr_replacement_is_refused() -> None:
    table = simple().add("idp.example", RRType.NAPTR, naptr("_radsec._tcp.idp.example.\"};evil"))
    result = not_found(table.resolve("idp.example"))
    assert "replacement" in result.refused[0] and "not allowed" in result.refused[0]


def test_srv_root_target_means_not_offered() -> None:
    table = simple().add("_radsec._tcp.idp.example", RRType.SRV, Srv(0, 0, 0, "."))
    result = not_found(table.resolve("idp.example"))
    assert any("decidedly not offered" in line for line in result.explain)


def test_srv_failure_of_one_name_keeps_the_others() -> None:
    table = simple().add("idp.example", RRType.NAPTR, naptr("_radsec._tcp.idp.example.", preference=1),
                         naptr("_radsec._tcp.down.example.", preference=2))
    table.set("_radsec._tcp.down.example", RRType.SRV, Answer(Status.FAILED, error="timeout"))
    assert route(table.resolve("idp.example")).targets[0].host == "idp.example"
    table.set("_radsec._tcp.idp.example", RRType.SRV, Answer(Status.FAILED, error="timeout"))
    with pytest.raises(DiscoveryError):
        table.resolve("idp.example")


def test_duplicate_targets_are_merged_and_bounded() -> None:
    records = [Srv(p % 3, 1, 2083, f"h{p}.example.") for p in range(40)] + [Srv(9, 1, 2083, "h0.example.")]
    table = simple().add("_radsec._tcp.idp.example", RRType.SRV, *records)
    for p in range(40):
        table.add(f"h{p}.example", RRType.A, "10.1.0.1")
    result = route(table.resolve("idp.example"))
    assert len(result.targets) == MAX_TARGETS
    assert [t.priority for t in result.targets if t.host == "h0.example"] == [0]


# -- addresses and TTL --------------------------------------------------------------------------------

def test_addresses_of_both_families_and_bad_ones_refused() -> None:
    table = simple()
    table.add("idp.example", RRType.A, "192.0.2.1", "2001:db8::1", "not-an-address")
    table.add("idp.example", RRType.AAAA, "2001:db8::2")
    result = route(table.resolve("idp.example"))
    assert result.targets[0].addresses == ("192.0.2.1", "2001:db8::2")
    assert len(result.refused) == 2


def test_target_without_address_is_dropped() -> None:
    table = simple().add("_radsec._tcp.idp.example", RRType.SRV, Srv(0, 0, 2083, "gone.example."),
                         Srv(1, 0, 2083, "idp.example."))
    result = route(table.resolve("idp.example"))
    assert [t.host for t in result.targets] == ["idp.example"]
    assert "target gone.example:2083: dropped, it has no address" in result.explain
    table.answers.pop(("idp.example", RRType.A))
    assert not_found(table.resolve("idp.example")).reason == "no SRV target has an address"
    for host in ("gone.example", "idp.example"):
        for rdtype in (RRType.A, RRType.AAAA):
            table.set(host, rdtype, Answer(Status.FAILED, error="timeout"))
    with pytest.raises(DiscoveryError):
        table.resolve("idp.example")


@pytest.mark.parametrize(("ttls", "expected"), [((300, 300, 300), 300), ((30, 300, 300), 30),
                                                 ((300, 20, 300), 20), ((300, 300, 5), 5), ((0, 9, 9), 0)])
def test_route_ttl_is_the_minimum_along_the_chain(ttls: tuple[int, int, int], expected: int) -> None:
    result = route(simple(ttls=ttls).resolve("idp.example"))
    assert result.ttl == expected == result.targets[0].ttl


def test_per_target_ttl() -> None:
    table = simple().add("_radsec._tcp.idp.example", RRType.SRV, Srv(0, 0, 2083, "idp.example."),
                         Srv(1, 0, 2083, "b.example."))
    table.add("b.example", RRType.A, "10.0.0.2", ttl=40)
    result = route(table.resolve("idp.example"))
    assert [t.ttl for t in result.targets] == [300, 40] and result.ttl == 40


def test_a_failed_srv_lookup_beside_a_negative_one_is_an_error() -> None:
    # A negative result gets cached: it is only given when DNS answered every query.
    table = simple().add("idp.example", RRType.NAPTR, naptr("_radsec._tcp.a.example.", preference=1),
                         naptr("_radsec._tcp.b.example.", preference=2))
    table.set("_radsec._tcp.b.example", RRType.SRV, Answer(Status.FAILED, error="timeout"))
    with pytest.raises(DiscoveryError) as caught:
        table.resolve("idp.example")
    assert "SRV _radsec._tcp.a.example: no such name (NXDOMAIN)" in caught.value.explain
