"""Our IdP behind radsecproxy acting as the ANP (RADIUS/UDP in, RadSec out with a federation member
certificate), and RadSec clients whose certificates the federation policy refuses.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.eap.eapol import eapol_test
from tests.support.idp_process import CUI_REQUEST, IdpRun, block_for, demo, idp_process, reply_attributes
from tests.support.procs import need, wait_log
from tests.support.radsec_certs import PkiPaths
from tests.support.radsec_peers import radsecproxy
from tsunagaru.demo_state import DemoState
from tsunagaru.pki import FederationPKI, Role, issue_member, write_cert_and_key
from tsunagaru.radius import Code, Packet, sign_request
from tsunagaru.radsec import RADSEC_SECRET

pytestmark = pytest.mark.interop
IDP_NAME = "idp.tsunagaru.test"


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> DemoState:
    return demo(tmp_path_factory.mktemp("idp-radsec-state"))


@pytest.fixture(scope="module")
def idp(state: DemoState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdpRun]:
    with idp_process(state, tmp_path_factory.mktemp("idp")) as run:
        yield run


def _anp_pki(state: DemoState) -> PkiPaths:
    """radsecproxy as the ANP: it trusts both federation roots and presents the ANP member certificate."""
    roots = state.path("federation-roots.pem")
    return PkiPaths(ca=roots, server_cert=state.path("idp-radsec.pem"), server_key=state.path("idp-radsec.key"),
                    client_cert=state.path("anp.pem"), client_key=state.path("anp.key"))


@pytest.mark.parametrize("method", ["ttls-pap", "tls12", "tls13", "peap-mschapv2"])
def test_eapol_through_radsecproxy(tmp_path: Path, state: DemoState, idp: IdpRun, method: str) -> None:
    need("radsecproxy", "eapol_test")
    with radsecproxy(tmp_path, _anp_pki(state), server_port=idp.radsec_port, server_name=IDP_NAME) as udp_port:
        run = eapol_test(tmp_path, udp_port, block_for(state, method), extra=CUI_REQUEST, timeout=15)
    assert run.success, run.log[-3000:]
    assert any(attr == 89 for attr, _ in reply_attributes(run.log, 2))


def _status_server(port: int, cert: Path, key: Path, roots: Path) -> Packet | None:
    """Status-Server over RadSec with this client certificate; the reply, or None when the IdP hung up."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(roots))
    ctx.load_cert_chain(str(cert), str(key))
    request = sign_request(Packet(Code.STATUS_SERVER, 7, authenticator=os.urandom(16)), RADSEC_SECRET)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
                ctx.wrap_socket(raw, server_hostname=IDP_NAME) as tls:
            tls.sendall(request.to_bytes())
            data = b""
            while len(data) < 4 or len(data) < int.from_bytes(data[2:4], "big"):
                chunk = tls.recv(4096)
                if not chunk:
                    return None
                data += chunk
    except (ssl.SSLError, ConnectionError):
        return None
    return Packet.from_bytes(data)


def _member(state: DemoState, folder: Path, stem: str, role: Role, *, policy: bool) -> tuple[Path, Path]:
    """A member certificate under the second federation root, optionally without the policy OID."""
    fed = FederationPKI.load(state.path("federation-2"))
    extra = {} if policy else {"policy_oids": ()}
    item = issue_member(fed.issuing_ca, f"{stem}.tsunagaru.test", "BADPEER:JP", role, datetime.now(UTC), **extra)
    return write_cert_and_key(item, folder / f"{stem}.pem", folder / f"{stem}.key")


def test_federation_member_gets_status_reply(state: DemoState, idp: IdpRun) -> None:
    reply = _status_server(idp.radsec_port, state.path("anp.pem"), state.path("anp.key"),
                           state.path("federation-roots.pem"))
    assert reply is not None and reply.code == Code.ACCESS_ACCEPT


@pytest.mark.parametrize(("role", "policy"), [(Role.ANP, False), (Role.IDP, True)], ids=["no-policy-oid", "server-eku"])
def test_refused_radsec_client(tmp_path: Path, state: DemoState, idp: IdpRun, role: Role, policy: bool) -> None:
    cert, key = _member(state, tmp_path, f"bad-{role.value}", role, policy=policy)
    assert _status_server(idp.radsec_port, cert, key, state.path("federation-roots.pem")) is None
    if not policy:  # the federation check names it; a serverAuth-only certificate already fails the handshake
        wait_log(idp.log, "MISSING_POLICY", timeout=5)
