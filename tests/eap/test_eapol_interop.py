"""eapol_test (wpa_supplicant's EAP peer) against the EAP front over RADIUS/UDP on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.eap.certs import Pki
from tests.eap.eapol import SECRET, eapol_test, front
from tests.eap.memstore import MemStore
from tests.support.procs import free_port, need
from tsunagaru.eap.methods.base import MethodConfig
from tsunagaru.eap.session import SessionConfig
from tsunagaru.eap.tls_config import TlsServerConfig
from tsunagaru.idp.eap_front import EapRadiusHandler, FrontConfig

pytestmark = pytest.mark.interop

TLS12 = 'phase1="tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=0 tls_disable_tlsv1_3=1"'
TLS13 = 'phase1="tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0"'
OUTER = 'anonymous_identity="anonymous@idp.tsunagaru.test"'


def handler(pki: Pki, store: MemStore, methods: tuple[int, ...], **tls: object) -> EapRadiusHandler:
    tls_config = TlsServerConfig(pki.server_cert, pki.server_key, client_ca_file=pki.ca, **tls)  # type: ignore[arg-type]
    session = SessionConfig(methods, MethodConfig(store, tls_config))
    return EapRadiusHandler(FrontConfig(SECRET, session))


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
    port = free_port()
    with front(handler(pki, store, (13,)), port) as h:
        run = eapol_test(tmp_path, port, tls_block(pki, phase1))
    assert run.success, run.log[-3000:]
    assert h.outcomes[-1].success


def test_eap_tls_fragmented(tmp_path: Path, pki: Pki, store: MemStore) -> None:
    need("eapol_test")
    port = free_port()
    with front(handler(pki, store, (13,), fragment_size=200), port):
        run = eapol_test(tmp_path, port, tls_block(pki, TLS12) + "\nfragment_size=200")
    assert run.success, run.log[-3000:]


def test_eap_tls_untrusted_client_rejected(tmp_path: Path, pki: Pki, store: MemStore) -> None:
    need("eapol_test")
    port = free_port()
    with front(handler(pki, store, (13,)), port) as h:
        run = eapol_test(tmp_path, port, tls_block(pki, TLS12, pki.other_client_cert, pki.other_client_key))
    assert not run.success
    assert "EAP-FAILURE" in run.log or "FAILURE" in run.log
    assert h.outcomes and not h.outcomes[-1].success
