"""eapol_test -> our ANP (a `tsunagaru anp run` process) -> RadSec -> FreeRADIUS 3.2 as the IdP.

EAP-TLS, EAP-TTLS/PAP and PEAP/MSCHAPv2 must each end in SUCCESS with the MPPE keys of the
Access-Accept matching the MSK eapol_test derived: the ANP re-encrypts the keys from the RadSec
secret to the access point's secret. The path is tried with a static route and with RFC 7585
discovery (NAPTR -> SRV -> A served by a real dnsmasq on 127.0.0.1). The RadSec leg is checked both
ways with the federation PKI: FreeRADIUS requires the ANP's member certificate, the ANP checks
FreeRADIUS's member certificate (roots, EKU, policy OID, the SRV target name in its SANs).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.discovery.dnsmasq import Dnsmasq, chain
from tests.eap.eapol import eapol_test
from tests.support.anp_freeradius import EapIdp, freeradius_eap_idp
from tests.support.anp_stack import AnpProcess, anp_ports, anp_toml, make_state, pap_request, run_anp
from tests.support.procs import need
from tsunagaru.demo_state import PASSWORD, REALM, USER, DemoState
from tsunagaru.radius import Code, Packet

pytestmark = pytest.mark.timeout(120)


def networks(state: DemoState) -> dict[str, str]:
    ca = state.path("ca.pem")
    tls12 = 'phase1="tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_3=1"'
    return {
        "tls": f'key_mgmt=IEEE8021X\neap=TLS\nidentity="{USER}@{REALM}"\nca_cert="{ca}"\n'
               f'client_cert="{state.path("alice.pem")}"\nprivate_key="{state.path("alice.key")}"\n{tls12}',
        "ttls-pap": f'key_mgmt=IEEE8021X\neap=TTLS\nidentity="{USER}"\nanonymous_identity="anonymous@{REALM}"\n'
                    f'password="{PASSWORD}"\nphase2="auth=PAP"\nca_cert="{ca}"\n{tls12}',
        "peap-mschapv2": f'key_mgmt=IEEE8021X\neap=PEAP\nidentity="{USER}"\n'
                         f'anonymous_identity="anonymous@{REALM}"\npassword="{PASSWORD}"\n'
                         f'phase2="auth=MSCHAPV2"\nca_cert="{ca}"\n{tls12}',
    }


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> DemoState:
    return make_state(tmp_path_factory.mktemp("anp-fr") / "state")


@pytest.fixture(scope="module")
def freeradius(state: DemoState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EapIdp]:
    need("eapol_test")
    with freeradius_eap_idp(tmp_path_factory.mktemp("freeradius"), state) as idp:
        yield idp


@pytest.fixture(scope="module")
def static_anp(
    state: DemoState, freeradius: EapIdp, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AnpProcess]:
    folder = tmp_path_factory.mktemp("anp-static")
    ports = anp_ports()
    toml = anp_toml(state, ports, spool=folder / "spool.sqlite",
                    routes=[(REALM, [f"127.0.0.1:{freeradius.radsec}/idp.tsunagaru.test"])])
    with run_anp(folder, toml, ports) as anp:
        yield anp


@pytest.fixture(scope="module")
def tls13_anp(state: DemoState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnpProcess]:
    """A second FreeRADIUS that allows TLS 1.3 for EAP, behind its own ANP."""
    folder = tmp_path_factory.mktemp("anp-tls13")
    with freeradius_eap_idp(folder / "freeradius", state, tls_max="1.3") as idp:
        ports = anp_ports()
        toml = anp_toml(state, ports, spool=folder / "spool.sqlite",
                        routes=[(REALM, [f"127.0.0.1:{idp.radsec}/idp.tsunagaru.test"])])
        with run_anp(folder, toml, ports) as anp:
            yield anp


@pytest.fixture(scope="module")
def discovery_anp(
    state: DemoState, freeradius: EapIdp, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[AnpProcess]:
    folder = tmp_path_factory.mktemp("anp-dns")
    dns = Dnsmasq(folder)
    dns.start(chain(REALM, port=freeradius.radsec))
    try:
        ports = anp_ports()
        with run_anp(folder, anp_toml(state, ports, spool=folder / "spool.sqlite", nameserver=dns.port), ports) as anp:
            yield anp
    finally:
        dns.stop()


@pytest.mark.parametrize("method", ["tls", "ttls-pap", "peap-mschapv2"])
def test_static_route(method: str, state: DemoState, static_anp: AnpProcess, tmp_path: Path) -> None:
    run = eapol_test(tmp_path, static_anp.auth, networks(state)[method], name=method)
    assert run.success, run.log[-3000:] + static_anp.log.read_text()[-2000:]


@pytest.mark.parametrize("method", ["tls", "ttls-pap", "peap-mschapv2"])
def test_discovery(method: str, state: DemoState, discovery_anp: AnpProcess, tmp_path: Path) -> None:
    run = eapol_test(tmp_path, discovery_anp.auth, networks(state)[method], name=method)
    assert run.success, run.log[-3000:] + discovery_anp.log.read_text()[-2000:]
    assert any(k.startswith("tsunagaru_anp_discovery_lookups_total") for k in discovery_anp.metrics())


def test_eap_tls_13(state: DemoState, tls13_anp: AnpProcess, tmp_path: Path) -> None:
    """EAP-TLS over TLS 1.3 (RFC 9190 key derivation): eapol_test must enable 1.3 explicitly."""
    only13 = 'phase1="tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0"'
    network = networks(state)["tls"].rsplit("\n", 1)[0] + "\n" + only13
    run = eapol_test(tmp_path, tls13_anp.auth, network, name="tls13")
    assert run.success, run.log[-3000:]
    assert "TLSv1.3" in run.log


def test_burst_is_answered_in_full(static_anp: AnpProcess) -> None:
    """256 PAP requests queued at once (4 sources x 64 ids): the ANP reads queued datagrams in batches
    and sends their RadSec requests together; every one must come back accepted."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
    sent: dict[tuple[int, int], Packet] = {}
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
            s.setblocking(False)
            for ident in range(64):
                request = pap_request(f"{USER}@{REALM}", PASSWORD, ident)
                sent[(s.getsockname()[1], ident)] = request
                s.sendto(request.to_bytes(), ("127.0.0.1", static_anp.auth))
        codes: dict[tuple[int, int], int] = {}
        deadline = time.monotonic() + 15
        while len(codes) < len(sent) and time.monotonic() < deadline:
            for s in socks:
                try:
                    reply = Packet.from_bytes(s.recv(4096))
                except BlockingIOError:
                    continue
                codes[(s.getsockname()[1], reply.identifier)] = reply.code
            time.sleep(0.005)
    finally:
        for s in socks:
            s.close()
    assert len(codes) == len(sent), f"{len(sent) - len(codes)} of {len(sent)} requests unanswered"
    assert set(codes.values()) == {Code.ACCESS_ACCEPT}
