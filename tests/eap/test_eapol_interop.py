"""eapol_test (wpa_supplicant's EAP peer) against the EAP front over RADIUS/UDP on 127.0.0.1."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from cryptography import x509

from tests.eap.certs import Pki
from tests.eap.eapol import SECRET, Recorded, eapol_test, front
from tests.eap.memstore import MemStore
from tests.support.procs import free_port, need
from tsunagaru.eap.credentials import Verdict
from tsunagaru.eap.methods.base import MethodConfig
from tsunagaru.eap.session import SessionConfig
from tsunagaru.eap.tls_config import TlsServerConfig
from tsunagaru.idp.eap_front import FrontConfig

pytestmark = pytest.mark.interop

TLS12 = 'phase1="tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=0 tls_disable_tlsv1_3=1"'
TLS13 = 'phase1="tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0"'
OUTER = 'anonymous_identity="anonymous@idp.tsunagaru.test"'


def handler(pki: Pki, store: MemStore, methods: tuple[int, ...], **tls: object) -> Recorded:
    tls_config = TlsServerConfig(pki.server_cert, pki.server_key, client_ca_file=pki.ca, **tls)  # type: ignore[arg-type]
    session = SessionConfig(methods, MethodConfig(store, tls_config))
    return Recorded(FrontConfig(SECRET, session))


def tls_block(pki: Pki, phase1: str, cert: Path | None = None, key: Path | None = None) -> str:
    return "\n".join(
        [
            "key_mgmt=IEEE8021X",
            "eap=TLS",
            'identity="alice@idp.tsunagaru.test"',
            f'ca_cert="{pki.ca}"',
            f'client_cert="{cert or pki.client_cert}"',
            f'private_key="{key or pki.client_key}"',
            phase1,
            "eapol_flags=0",
        ]
    )


@pytest.mark.parametrize("phase1", [TLS12, TLS13], ids=["tls12", "tls13"])
def test_eap_tls(tmp_path: Path, pki: Pki, store: MemStore, phase1: str) -> None:
    need("eapol_test")
    port = free_port(socket.SOCK_DGRAM)
    with front(handler(pki, store, (13,)), port) as h:
        run = eapol_test(tmp_path, port, tls_block(pki, phase1))
    assert run.success, run.log[-3000:]
    assert h.outcomes[-1].success


def test_eap_tls_fragmented(tmp_path: Path, pki: Pki, store: MemStore) -> None:
    need("eapol_test")
    port = free_port(socket.SOCK_DGRAM)
    with front(handler(pki, store, (13,), fragment_size=200), port):
        run = eapol_test(tmp_path, port, tls_block(pki, TLS12) + "\nfragment_size=200")
    assert run.success, run.log[-3000:]


def test_eap_tls_untrusted_client_rejected(tmp_path: Path, pki: Pki, store: MemStore) -> None:
    need("eapol_test")
    port = free_port(socket.SOCK_DGRAM)
    with front(handler(pki, store, (13,)), port) as h:
        run = eapol_test(tmp_path, port, tls_block(pki, TLS12, pki.other_client_cert, pki.other_client_key))
    assert run.rc != 0 and run.log.rstrip().endswith("FAILURE"), run.log[-2000:]
    assert [(o.success, o.reject_reason) for o in h.outcomes] == [(False, 10)]


def password_block(
    pki: Pki,
    eap: str,
    phase2: str,
    *,
    identity: str = "alice@idp.tsunagaru.test",
    password: str = "alice-password",
) -> str:
    return "\n".join(
        [
            "key_mgmt=IEEE8021X",
            f"eap={eap}",
            f'identity="{identity}"',
            OUTER,
            f'password="{password}"',
            f'ca_cert="{pki.ca}"',
            f'phase2="{phase2}"',
            TLS12,
            "eapol_flags=0",
        ]
    )


TUNNELS = [
    ("TTLS", "auth=PAP"),
    ("TTLS", "auth=MSCHAPV2"),
    ("TTLS", "autheap=MSCHAPV2"),
    ("PEAP", "auth=MSCHAPV2"),
]
TUNNEL_IDS = ["ttls-pap", "ttls-mschapv2", "ttls-eap-mschapv2", "peap-mschapv2"]


@pytest.mark.parametrize(("eap", "phase2"), TUNNELS, ids=TUNNEL_IDS)
def test_tunnelled_password(tmp_path: Path, pki: Pki, store: MemStore, eap: str, phase2: str) -> None:
    need("eapol_test")
    port = free_port(socket.SOCK_DGRAM)
    with front(handler(pki, store, (21, 25)), port) as h:
        run = eapol_test(tmp_path, port, password_block(pki, eap, phase2))
    assert run.success, run.log[-3000:]
    assert h.outcomes[-1].inner_identity == "alice@idp.tsunagaru.test"
    port = free_port(socket.SOCK_DGRAM)  # both sides cut their TLS messages into 200-octet fragments
    with front(handler(pki, store, (21, 25), fragment_size=200), port) as h:
        frag = eapol_test(
            tmp_path, port, password_block(pki, eap, phase2) + "\nfragment_size=200", name="frag"
        )
    assert frag.success, frag.log[-3000:]
    assert h.outcomes[-1].inner_identity == "alice@idp.tsunagaru.test"


@pytest.mark.parametrize(("eap", "phase2"), TUNNELS, ids=TUNNEL_IDS)
@pytest.mark.parametrize(
    ("identity", "password", "reason"),
    [
        ("alice@idp.tsunagaru.test", "wrong", 10),
        ("mallory@idp.tsunagaru.test", "x", 11),
    ],
    ids=["wrong-password", "unknown-user"],
)
def test_tunnelled_password_rejected(
    tmp_path: Path,
    pki: Pki,
    store: MemStore,
    eap: str,
    phase2: str,
    identity: str,
    password: str,
    reason: int,
) -> None:
    need("eapol_test")
    port = free_port(socket.SOCK_DGRAM)
    with front(handler(pki, store, (21, 25)), port) as h:
        run = eapol_test(
            tmp_path, port, password_block(pki, eap, phase2, identity=identity, password=password)
        )
    assert not run.success
    assert "FAILURE" in run.log
    assert h.outcomes and not h.outcomes[-1].success
    assert h.outcomes[-1].reject_reason == reason, h.outcomes[-1]


@pytest.mark.parametrize(("eap", "phase2"), TUNNELS, ids=TUNNEL_IDS)
def test_tunnelled_password_tls13(tmp_path: Path, pki: Pki, store: MemStore, eap: str, phase2: str) -> None:
    """RFC 9427 keys (TTLS context 0x15, PEAP 0x19) when the tunnels may use TLS 1.3."""
    need("eapol_test")
    port = free_port(socket.SOCK_DGRAM)
    with front(handler(pki, store, (21, 25), tls13_tunnels=True), port):
        run = eapol_test(tmp_path, port, password_block(pki, eap, phase2).replace(TLS12, TLS13))
    assert run.success, run.log[-3000:]
    assert "Using TLS version TLSv1.3" in run.log


@pytest.mark.parametrize("resumption", [False, True], ids=["resumption-off", "resumption-on"])
def test_eap_tls13_resumption(tmp_path: Path, pki: Pki, store: MemStore, resumption: bool) -> None:
    need("eapol_test")
    port = free_port(socket.SOCK_DGRAM)
    with front(handler(pki, store, (13,), resumption=resumption), port) as h:
        run = eapol_test(tmp_path, port, tls_block(pki, TLS13), extra=["-r", "1"])
    assert run.success, run.log[-3000:]
    assert [o.success for o in h.outcomes] == [True, True]
    assert ("resumed=1" in run.log) is resumption


def test_eap_tls_revoked_client_rejected(tmp_path: Path, pki: Pki, store: MemStore) -> None:
    need("eapol_test")
    store.revoked_serials.add(x509.load_pem_x509_certificate(pki.client_cert.read_bytes()).serial_number)
    port = free_port(socket.SOCK_DGRAM)
    with front(handler(pki, store, (13,)), port) as h:
        run = eapol_test(tmp_path, port, tls_block(pki, TLS12))
    assert not run.success and "FAILURE" in run.log
    assert h.outcomes[-1].verdict is Verdict.REVOKED and h.outcomes[-1].reject_reason == 12


def test_plain_eap_mschapv2(tmp_path: Path, pki: Pki, store: MemStore) -> None:
    """Outside a tunnel the MSK is 32 octets (hostapd's layout): only MS-MPPE-Recv-Key carries it."""
    need("eapol_test")
    block = "\n".join(
        [
            "key_mgmt=IEEE8021X",
            "eap=MSCHAPV2",
            'identity="alice@idp.tsunagaru.test"',
            'password="alice-password"',
        ]
    )
    port = free_port(socket.SOCK_DGRAM)
    with front(handler(pki, store, (26,)), port):
        run = eapol_test(tmp_path, port, block)
    assert run.success, run.log[-3000:]
