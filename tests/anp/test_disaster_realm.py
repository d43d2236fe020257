"""The disaster credential in the ANP core: forwarded only from a client whose ``disaster_until`` is ahead."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from tsunagaru.anp.clients import Client, ClientRegistry
from tsunagaru.anp.config import parse
from tsunagaru.anp.core import AnpCore, Forward, Reply
from tsunagaru.anp.routing import PeerAddress, RealmPattern, Router, StaticRoute
from tsunagaru.demo_state import DISASTER_REALM, DemoPorts, DemoState, anp_config
from tsunagaru.radius import Code, Packet, default_dictionary, encode, sign_request
from tsunagaru.radius.reasons import RejectReason, parse_reject_reason

SECRET = b"testing123"
DISASTER = "disaster.idp.example"
END = 1_800_000_000.0
D = default_dictionary()


def core() -> AnpCore:
    clients = ClientRegistry.of([
        Client("inside", ipaddress.ip_network("127.0.1.1/32"), SECRET, disaster_until=END),
        Client("outside", ipaddress.ip_network("127.0.0.0/8"), SECRET),
    ])
    routes = [StaticRoute(RealmPattern.parse(realm), (PeerAddress("127.0.0.1", 2083),))
              for realm in (DISASTER, "idp.example")]
    return AnpCore(clients, Router(routes=routes), disaster_realms=frozenset({DISASTER}))


def request(user: str) -> bytes:
    pkt = Packet(Code.ACCESS_REQUEST, 9, attributes=tuple(encode(D, "User-Name", user)))
    return sign_request(pkt, SECRET, add_message_authenticator=True).to_bytes()


def assert_refused_42(action: object) -> None:
    assert isinstance(action, Reply) and action.reason == RejectReason.ROAMING_NOT_ALLOWED
    reply = Packet.from_bytes(action.data)
    assert reply.code == Code.ACCESS_REJECT
    assert parse_reject_reason(reply.get(18) or b"") == 42
    assert action.detail and "disaster credential" in action.detail  # the operator's log line


def test_inside_an_active_incident_is_forwarded() -> None:
    action = core().on_datagram(request(f"guest@{DISASTER.upper()}"), "127.0.1.1", 5000, 1.0, wall=END - 1)
    assert isinstance(action, Forward) and action.realm.lower() == DISASTER


def test_outside_any_incident_is_refused_with_42() -> None:
    assert_refused_42(core().on_datagram(request(f"guest@{DISASTER}"), "127.0.0.1", 5000, 1.0, wall=END - 1))


def test_after_the_end_is_refused_with_42() -> None:
    assert_refused_42(core().on_datagram(request(f"guest@{DISASTER}"), "127.0.1.1", 5000, 1.0, wall=END))


def test_without_a_wall_clock_it_fails_closed() -> None:
    assert_refused_42(core().on_datagram(request(f"guest@{DISASTER}"), "127.0.1.1", 5000, 1.0))


def test_ordinary_realms_are_untouched_outside_incidents() -> None:
    action = core().on_datagram(request("alice@idp.example"), "127.0.0.1", 5000, 1.0, wall=END + 100)
    assert isinstance(action, Forward)


def test_config_keys() -> None:
    cfg = parse(f'''[anp]
disaster_realms = ["{DISASTER.upper()}"]
[[clients]]
name = "a"
network = "127.0.0.1"
secret = "s"
disaster_until = 1800000000
''')
    assert cfg.disaster_realms == frozenset({DISASTER})
    assert cfg.clients[0].disaster_until == END


def test_the_demo_anp_refuses_the_disaster_realm_outside_incidents(tmp_path: Path) -> None:
    cfg = parse(anp_config(DemoState(tmp_path), DemoPorts()))
    assert cfg.disaster_realms == frozenset({DISASTER_REALM})
    assert any(r.pattern.text == DISASTER_REALM for r in cfg.routes)
