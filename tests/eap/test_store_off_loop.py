"""Review 28 and issue 9.7: no user-store read on the event loop, and the EAP methods never call the store.
A store that refuses to be asked on the loop's thread, behind an adapter that does what the IdP's does
(the handler returns a credential question; the answer comes from a worker thread; the conversation
resumes on the loop), driven by the real eapol_test for every method; one question per login."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Awaitable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509

from tests.eap.certs import Pki
from tests.eap.eapol import SECRET, eapol_test
from tests.eap.memstore import MemStore
from tests.support.procs import free_port, need
from tsunagaru.eap.credentials import CredentialAnswer, CredentialQuery, NtHashResult, Verdict, resolve
from tsunagaru.eap.methods.base import MethodConfig
from tsunagaru.eap.packet import EapType
from tsunagaru.eap.session import SessionConfig
from tsunagaru.eap.tls_config import TlsServerConfig
from tsunagaru.idp.eap_front import EapPending, EapRadiusHandler, FrontConfig
from tsunagaru.net.front import UdpFront
from tsunagaru.radius import Packet

pytestmark = pytest.mark.interop
OUTER = 'anonymous_identity="anonymous@idp.tsunagaru.test"'
TLS12 = 'phase1="tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=0 tls_disable_tlsv1_3=1"'


@dataclass
class Guarded:
    """MemStore that fails when asked on the event loop's thread (``loop_thread``) or asked to peek."""

    inner: MemStore
    loop_thread: int | None = None
    asked: int = 0

    def _check(self) -> None:
        self.asked += 1
        assert threading.get_ident() != self.loop_thread, "the user store was asked on the event loop"

    def peek(self, query: CredentialQuery) -> CredentialAnswer | None:
        return None  # nothing cached: every question goes to a worker

    def check_password(self, username: str, password: bytes) -> Verdict:
        self._check()
        return self.inner.check_password(username, password)

    def nt_hash(self, username: str) -> NtHashResult:
        self._check()
        return self.inner.nt_hash(username)

    def check_certificate(self, certificate: x509.Certificate, chain_verified: bool) -> Verdict:
        self._check()
        return self.inner.check_certificate(certificate, chain_verified)


@dataclass
class Counts:
    requests: int = 0
    questions: int = 0


def _serve(handler: EapRadiusHandler, store: Guarded, counts: Counts, port: int) -> Iterator[None]:
    import asyncio

    loop = asyncio.new_event_loop()

    async def later(pending: EapPending) -> Packet | None:
        result: Packet | EapPending | None = pending
        while isinstance(result, EapPending):
            counts.questions += 1
            answer = await loop.run_in_executor(None, resolve, store, result.query)
            result = handler.resume(result, answer, loop.time())
        return result

    def answer(packet: Packet, _addr: object) -> Packet | Awaitable[Packet | None] | None:
        counts.requests += 1
        result = handler.begin(packet, loop.time())
        return later(result) if isinstance(result, EapPending) else result

    front = UdpFront(answer, [ipaddress.ip_network("127.0.0.0/8")])
    loop.run_until_complete(front.bind("127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    store.loop_thread = thread.ident
    try:
        yield
    finally:
        loop.call_soon_threadsafe(front.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


CASES = {
    "tls": ((EapType.TLS,), None),
    "ttls-pap": ((EapType.TTLS,), "auth=PAP"),
    "ttls-mschapv2": ((EapType.TTLS,), "auth=MSCHAPV2"),
    "ttls-eap-mschapv2": ((EapType.TTLS,), "autheap=MSCHAPV2"),
    "peap-mschapv2": ((EapType.PEAP,), "auth=MSCHAPV2"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_store_is_asked_only_off_the_loop(tmp_path: Path, pki: Pki, store: MemStore, case: str) -> None:
    import contextlib

    need("eapol_test")
    methods, phase2 = CASES[case]
    guarded = Guarded(store)
    tls = TlsServerConfig(pki.server_cert, pki.server_key, client_ca_file=pki.ca)
    handler = EapRadiusHandler(FrontConfig(SECRET, SessionConfig(methods, MethodConfig(guarded, tls))))
    if phase2 is None:
        block = "\n".join(["key_mgmt=IEEE8021X", "eap=TLS", 'identity="alice@idp.tsunagaru.test"',
                           f'ca_cert="{pki.ca}"', f'client_cert="{pki.client_cert}"',
                           f'private_key="{pki.client_key}"', TLS12, "eapol_flags=0"])
    else:
        eap = "TTLS" if methods == (EapType.TTLS,) else "PEAP"
        block = "\n".join(["key_mgmt=IEEE8021X", f"eap={eap}", 'identity="alice@idp.tsunagaru.test"', OUTER,
                           'password="alice-password"', f'ca_cert="{pki.ca}"', f'phase2="{phase2}"', TLS12,
                           "eapol_flags=0"])
    counts = Counts()
    port = free_port(socket.SOCK_DGRAM)
    with contextlib.contextmanager(_serve)(handler, guarded, counts, port):
        run = eapol_test(tmp_path, port, block)
    assert run.success, run.log[-3000:]
    # one question per login (the certificate, the password, the NT hash), answered off the loop
    assert guarded.asked == counts.questions == 1 < counts.requests, (counts, case)
