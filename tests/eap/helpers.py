"""Shared builders for the in-memory EAP tests."""

from __future__ import annotations

import struct

from tests.eap.certs import Pki
from tests.eap.memstore import MemStore
from tsunagaru.eap import mschapv2_crypto as mc
from tsunagaru.eap.credentials import answer_now
from tsunagaru.eap.methods.base import MethodConfig
from tsunagaru.eap.session import EapSession, SessionConfig, Step
from tsunagaru.eap.tls_config import TlsServerConfig


def session(
    pki: Pki, store: MemStore, methods: tuple[int, ...], now: float = 0.0, **tls: object
) -> EapSession:
    tls_config = TlsServerConfig(pki.server_cert, pki.server_key, client_ca_file=pki.ca, **tls)  # type: ignore[arg-type]
    return EapSession(SessionConfig(methods, MethodConfig(store, tls_config)), now)


def settle(s: EapSession, step: Step, now: float = 0.0) -> Step:
    """Answer the step's credential questions from the session's store, as the IdP's adapter would."""
    while step.query is not None:
        step = s.resume(answer_now(s.config.method_config.store, step.query), now)
    return step


def mschapv2_response(request_data: bytes, user: str, password: str) -> bytes:
    """The peer's EAP-MSCHAPv2 Response Type-Data to a Challenge Type-Data."""
    ms_id, challenge = request_data[1], request_data[5:21]
    peer_challenge = bytes(range(16))
    nt = mc.generate_nt_response(challenge, peer_challenge, user.encode(), mc.nt_password_hash(password))
    value = peer_challenge + bytes(8) + nt + b"\x00"
    body = bytes((49,)) + value + user.encode()
    return struct.pack("!BBH", 2, ms_id, 4 + len(body)) + body
