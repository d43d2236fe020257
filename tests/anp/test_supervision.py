"""The ANP adapter survives what it did not expect (logged, counted, carried on), purges sent accounting,
and the trust checks around it fail closed: NAIRealm against the realm, CRLs, AP roots, check-config."""

from __future__ import annotations

import asyncio
import ipaddress
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tsunagaru.anp.clients import Client, ClientRegistry
from tsunagaru.anp.core import AnpCore, SpoolAccounting
from tsunagaru.anp.routing import PeerAddress, RealmPattern, Router, StaticRoute
from tsunagaru.anp.server import AnpServer
from tsunagaru.anp.spool import AccountingSpool
from tsunagaru.anp.wiring import RadSecTransport, realm_matches
from tsunagaru.pki import FederationPKI
from tsunagaru.radius import Code, Packet, default_dictionary, encode, sign_request
from tsunagaru.radsec.federation import TrustFiles, federation_check
from tsunagaru.radsec.tls import PeerInfo

D = default_dictionary()
SECRET = b"testing123"
ROUTE = StaticRoute(RealmPattern.parse("idp.example"), (PeerAddress("127.0.0.1", 2083, "idp.example"),))


class FlakyTransport:
    """Fails the first ``failures`` sends with an exception nobody expects, then answers."""

    def __init__(self, failures: int) -> None:
        self.failures, self.sent = failures, 0

    def is_up(self, peer: PeerAddress) -> bool:
        return True

    async def send(self, peer: PeerAddress, packet: Packet, timeout: float) -> tuple[Packet, Packet]:
        self.sent += 1
        if self.sent <= self.failures:
            raise RuntimeError("a bug in the transport")
        return packet, Packet(Code.ACCOUNTING_RESPONSE, packet.identifier)

    async def close(self) -> None:
        return None


class NoFinder:
    async def peers(self, realm: str, accounting: bool) -> Sequence[PeerAddress]:
        return []


def _server(tmp_path: Path, transport: FlakyTransport) -> AnpServer:
    core = AnpCore(ClientRegistry.of([Client("ap", ipaddress.ip_network("127.0.0.0/8"), SECRET)]),
                   Router(routes=[ROUTE]))
    return AnpServer(core, transport, NoFinder(), AccountingSpool(tmp_path / "spool.sqlite"))


def _acct(session: str) -> Packet:
    pkt = Packet(Code.ACCOUNTING_REQUEST, 1, attributes=(*encode(D, "User-Name", "a@idp.example"),
                                                         *encode(D, "Acct-Session-Id", session),
                                                         *encode(D, "Acct-Status-Type", "Start")))
    return sign_request(pkt, SECRET, add_message_authenticator=False)


def test_the_accounting_forwarder_survives_an_unexpected_error(tmp_path: Path) -> None:
    async def main() -> tuple[int, float, int]:
        transport = FlakyTransport(failures=1)
        server = _server(tmp_path, transport)
        action = server.core.on_datagram(_acct("s1").to_bytes(), "127.0.0.1", 5000, 0.0, "acct")
        assert isinstance(action, SpoolAccounting)
        await server.listen("127.0.0.1", 0, 0)
        reply = await server.handle(action, 5000, 0.0)
        assert reply is not None and Packet.from_bytes(reply.data).code == Code.ACCOUNTING_RESPONSE
        for _ in range(100):  # bounded: the forwarder keeps going after the error and sends the record
            if server.spool.pending() == 0:
                break
            server._acct_wakeup.set()
            await asyncio.sleep(0.05)
        errors = server.metrics.registry.get_sample_value("tsunagaru_anp_internal_errors_total",
                                                          {"task": "accounting forwarder"}) or 0
        pending = server.spool.pending()
        await server.close(drain=1)
        return pending, errors, transport.sent

    pending, errors, sent = asyncio.run(main())
    assert pending == 0 and errors == 1 and sent == 2


def test_sent_records_are_purged(tmp_path: Path) -> None:
    spool = AccountingSpool(tmp_path / "spool.sqlite")
    spool.put("ap", "idp.example", _acct("s1"), _acct("s1").to_bytes(), 100.0)
    spool.put("ap", "idp.example", _acct("s2"), _acct("s2").to_bytes(), 100.0)
    first, second = spool.due(200.0)
    spool.mark_sent(first.id, 150.0)
    assert spool.purge_sent(older_than=140.0) == 0
    assert spool.purge_sent(older_than=160.0) == 1
    assert spool.pending() == 1 and [r.id for r in spool.due(200.0)] == [second.id]
    (rows,) = spool.db.execute("SELECT count(*) FROM acct_spool").fetchone()
    assert rows == 1
    spool.close()


def test_the_forwarder_purges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tsunagaru.anp.server as server_module

    monkeypatch.setattr(server_module, "SPOOL_KEEP_SENT", 0.0)

    async def main() -> int:
        server = _server(tmp_path, FlakyTransport(failures=0))
        action = server.core.on_datagram(_acct("s9").to_bytes(), "127.0.0.1", 5000, 0.0, "acct")
        assert isinstance(action, SpoolAccounting)
        await server.listen("127.0.0.1", 0, 0)
        await server.handle(action, 5000, 0.0)
        for _ in range(100):
            (rows,) = server.spool.db.execute("SELECT count(*) FROM acct_spool").fetchone()
            if rows == 0:
                break
            server._last_purge = 0.0
            server._acct_wakeup.set()
            await asyncio.sleep(0.05)
        await server.close(drain=1)
        return int(rows)

    assert asyncio.run(main()) == 0


# -- NAIRealm ------------------------------------------------------------------------------------------


def test_nai_realm_wildcards() -> None:
    assert realm_matches("idp.example", "IDP.example")
    assert realm_matches("*.mnc001.mcc440.3gppnetwork.org", "wlan.mnc001.mcc440.3gppnetwork.org")
    assert realm_matches("*.example", "a.b.example")
    assert not realm_matches("*.example", "example") and not realm_matches("idp.example", "evil.example")


class _Conn:
    def __init__(self, chain: list[bytes]) -> None:
        self.chain = chain


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> FederationPKI:
    return FederationPKI.create(tmp_path_factory.mktemp("fed"), "Test Federation", datetime.now(UTC))


def _der(pki: FederationPKI, fqdn: str, realms: list[str]) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    member = pki.issue_member(fqdn, "EXAMPLE:JP", "idp", now=datetime.now(UTC), realms=realms)
    return member.credential.cert.public_bytes(Encoding.DER)


def test_a_discovered_peer_must_name_the_realm(federation: FederationPKI, caplog: pytest.LogCaptureFixture) -> None:
    from tsunagaru.anp.metrics import AnpMetrics

    metrics = AnpMetrics()
    transport = RadSecTransport(None, metrics)  # type: ignore[arg-type]  # only the check, no pool
    peer = PeerAddress("192.0.2.1", 2083, "radsec.idp.example", "idp.example")
    named = _Conn([_der(federation, "radsec.idp.example", ["*.idp.example", "idp.example"])])
    assert transport.authorize(named, peer, "idp.example") is None  # type: ignore[arg-type]
    refused = transport.authorize(named, peer, "other.example")  # type: ignore[arg-type]
    assert refused is not None and "other.example" in refused
    bare = _Conn([_der(federation, "radsec.idp.example", [])])
    assert transport.authorize(bare, peer, "idp.example") is None  # type: ignore[arg-type]  # SRV fallback
    assert transport.authorize(bare, peer, "idp.example") is None  # type: ignore[arg-type]
    assert metrics.name_fallbacks._value.get() == 1  # counted (and logged) once per peer
    assert sum("no NAIRealm" in r.message for r in caplog.records) == 1
    strict = RadSecTransport(None, metrics, require_nai_realm=True)  # type: ignore[arg-type]
    assert strict.authorize(bare, peer, "idp.example") is not None  # type: ignore[arg-type]


# -- CRLs ----------------------------------------------------------------------------------------------


def _chain(pki: FederationPKI, role: str) -> tuple[list[bytes], Path]:
    from cryptography.hazmat.primitives.serialization import Encoding

    member = pki.issue_member(f"{role}.example", "EXAMPLE:JP", role, now=datetime.now(UTC))
    return [c.public_bytes(Encoding.DER) for c in member.credential.with_chain], pki.crl_path


def test_a_configured_crl_that_goes_missing_refuses_peers(federation: FederationPKI, tmp_path: Path) -> None:
    chain, crl = _chain(federation, "idp")
    copy = tmp_path / "crl.pem"
    copy.write_bytes(crl.read_bytes())
    files = TrustFiles([federation.root_path], [copy])
    hook = federation_check(files, "server")
    info = PeerInfo("192.0.2.1", 2083, None)
    assert hook(chain, info) is None
    copy.unlink()
    refused = hook(chain, info)
    assert refused is not None and "CRL" in refused and str(copy) in refused


def test_an_out_of_date_configured_crl_refuses_peers(federation: FederationPKI, tmp_path: Path) -> None:
    chain, _ = _chain(federation, "idp")
    old = tmp_path / "old.pem"
    federation.publish_crl(datetime.now(UTC) - timedelta(days=30))
    old.write_bytes(federation.crl_path.read_bytes())
    federation.publish_crl(datetime.now(UTC))
    hook = federation_check(TrustFiles([federation.root_path], [old]), "server")
    refused = hook(chain, PeerInfo("192.0.2.1", 2083, None))
    assert refused is not None and refused.startswith("CRL_UNAVAILABLE")


# -- check-config and start-up errors -------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tsunagaru", "anp", *args], capture_output=True, text=True,
                          timeout=60)


MINIMAL = """[anp]
listen_auth = "127.0.0.1:1"
listen_acct = "127.0.0.1:2"
spool = "spool.sqlite"
[[clients]]
name = "ap"
network = "127.0.0.1"
secret = "s"
"""


@pytest.mark.parametrize(("extra", "needle"), [
    ("", "tls.certificate"),
    ('[tls]\ncertificate = "missing.pem"\nkey = "missing.key"\nroots = ["missing-roots.pem"]\n', "No such file"),
])
def test_check_config_fails_where_run_would(tmp_path: Path, extra: str, needle: str) -> None:
    path = tmp_path / "anp.toml"
    path.write_text(MINIMAL + extra)
    for args in (("check-config", str(path)), ("run", "--config", str(path))):
        result = _cli(*args)
        assert result.returncode == 2, result
        assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_non_utf8_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "anp.toml"
    path.write_bytes(MINIMAL.encode().replace(b'"ap"', b'"\xff"'))
    result = _cli("check-config", str(path))
    assert result.returncode == 2 and "not UTF-8" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_spool_writes_run_off_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    threads: list[str] = []
    real_put = AccountingSpool.put

    def put(self: AccountingSpool, *args: object) -> bool:
        threads.append(threading.current_thread().name)
        return real_put(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(AccountingSpool, "put", put)

    async def main() -> None:
        server = _server(tmp_path, FlakyTransport(failures=0))
        action = server.core.on_datagram(_acct("s3").to_bytes(), "127.0.0.1", 5000, 0.0, "acct")
        assert isinstance(action, SpoolAccounting)
        await server.handle(action, 5000, 0.0)
        await server.close(drain=1)

    asyncio.run(main())
    assert threads and all(name.startswith("anp-spool") for name in threads)


def test_accounting_without_a_realm_goes_to_the_default_route(tmp_path: Path) -> None:
    sent: list[PeerAddress] = []

    class Recording(FlakyTransport):
        async def send(self, peer: PeerAddress, packet: Packet, timeout: float) -> tuple[Packet, Packet]:
            sent.append(peer)
            return await super().send(peer, packet, timeout)

    async def main() -> int:
        server = _server(tmp_path, Recording(failures=0))
        default = StaticRoute(RealmPattern.parse("*"), (PeerAddress("127.0.0.9", 2083, "default.example"),))
        server.core.router = Router(routes=[ROUTE, default])
        pkt = Packet(Code.ACCOUNTING_REQUEST, 4, attributes=(*encode(D, "User-Name", "00:11:22:33:44:55"),
                                                             *encode(D, "Acct-Session-Id", "mac"),
                                                             *encode(D, "Acct-Status-Type", "Start")))
        data = sign_request(pkt, SECRET, add_message_authenticator=False).to_bytes()
        action = server.core.on_datagram(data, "127.0.0.1", 5001, 0.0, "acct")
        assert isinstance(action, SpoolAccounting) and action.realm is None
        await server.listen("127.0.0.1", 0, 0)
        reply = await server.handle(action, 5001, 0.0)
        assert reply is not None and reply.outcome == "accounting"
        for _ in range(100):
            if sent:
                break
            await asyncio.sleep(0.05)
        await server.close(drain=1)
        return len(sent)

    assert asyncio.run(main()) >= 1 and sent[0].host == "127.0.0.9"


def test_radsec_access_points_are_named_by_their_certificate() -> None:
    from tsunagaru.anp.wiring import ClientLookup

    registry = ClientRegistry.of([
        Client("booths", ipaddress.ip_network("10.0.0.0/8"), SECRET, certificate_name="*.booths.city.example"),
        Client("halls", ipaddress.ip_network("10.0.0.0/8"), SECRET, certificate_name="hall-1.city.example"),
    ])
    lookup = ClientLookup(registry)
    assert lookup(PeerInfo("192.0.2.1", 1, None, names=("b-17.booths.city.example",))) == "booths"
    assert lookup(PeerInfo("10.1.1.1", 1, None, names=("hall-1.city.example",))) == "halls"
    assert lookup(PeerInfo("10.1.1.1", 1, None, names=("anp.federation.example",))) is None


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import socket as socket_module

    from tests.support.anp_stack import anp_ports, anp_toml, make_state

    state = make_state(tmp_path / "state")
    ports = anp_ports()
    busy = socket_module.socket(socket_module.AF_INET, socket_module.SOCK_DGRAM)
    busy.bind(("127.0.0.1", ports.auth))
    path = tmp_path / "anp.toml"
    path.write_text(anp_toml(state, ports, spool=tmp_path / "spool.sqlite"))
    try:
        result = _cli("run", "--config", str(path))
    finally:
        busy.close()
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "in use" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_the_udp_listener_survives_an_unexpected_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket as socket_module

    async def main() -> tuple[float, bytes]:
        server = _server(tmp_path, FlakyTransport(failures=0))
        real = AnpCore.on_datagram
        calls = {"n": 0}

        def flaky(self: AnpCore, *args: object, **kwargs: object) -> object:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("a bug in the core")
            return real(self, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(AnpCore, "on_datagram", flaky)
        await server.listen("127.0.0.1", 0, 0)
        acct_port = server._sockets[1].sockname[1]
        loop = asyncio.get_running_loop()
        sock = socket_module.socket(socket_module.AF_INET, socket_module.SOCK_DGRAM)
        sock.setblocking(False)
        sock.connect(("127.0.0.1", acct_port))
        for session in ("a", "b"):  # the first meets the bug, the second is answered
            await loop.sock_sendall(sock, _acct(session).to_bytes())
            await asyncio.sleep(0.1)
        reply = await asyncio.wait_for(loop.sock_recv(sock, 4096), 5)
        sock.close()
        errors = server.metrics.registry.get_sample_value("tsunagaru_anp_internal_errors_total",
                                                          {"task": "udp listener"}) or 0
        await server.close(drain=1)
        return errors, reply

    errors, reply = asyncio.run(main())
    assert errors == 1 and Packet.from_bytes(reply).code == Code.ACCOUNTING_RESPONSE


def test_check_config_says_ok_for_a_file_that_starts(tmp_path: Path) -> None:
    from tests.support.anp_stack import make_state

    state = make_state(tmp_path / "state")
    result = _cli("check-config", str(state.path("anp.toml")))
    assert result.returncode == 0 and result.stdout.startswith("ok: 1 clients"), result
