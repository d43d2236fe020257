"""EAP-TLS fragments as large as the link allows: the configured size, lowered by the NAS's Framed-MTU.

Each fragment less is a RADIUS round trip less; each fragment over the link's MTU is a login that never
completes. Both directions are checked against a real TLS handshake (pyOpenSSL peer in memory).
"""

from __future__ import annotations

import contextlib
import os

from OpenSSL import SSL

from tests.eap.certs import Pki
from tests.eap.helpers import session
from tests.eap.memstore import MemStore
from tests.eap.peer import Peer
from tsunagaru.eap.methods.base import MethodConfig
from tsunagaru.eap.packet import EapCode, EapPacket, EapType
from tsunagaru.eap.session import EapSession, SessionConfig
from tsunagaru.eap.tls_config import DEFAULT_FRAGMENT, TlsServerConfig
from tsunagaru.eap.tls_engine import FLAG_M, LINK_OVERHEAD, MIN_FRAGMENT, TlsFrame, fragment_size
from tsunagaru.idp.eap_front import EapRadiusHandler, FrontConfig, framed_mtu
from tsunagaru.radius import Code, Packet, sign_request, with_eap_message
from tsunagaru.radius.packet import FRAMED_MTU, STATE

SECRET = b"testing123"


def test_fragment_size_follows_the_link() -> None:
    assert fragment_size(1398, None) == 1398  # no Framed-MTU: the configured size
    assert fragment_size(1398, 1400) == 1400 - LINK_OVERHEAD  # eapol_test's and hostapd's 1400
    assert fragment_size(1024, 1400) == 1024  # never above the configured size
    assert fragment_size(1398, 500) == 486
    assert fragment_size(1398, 20) == MIN_FRAGMENT  # nonsense from the NAS: a floor, not a crash


def server_fragments(pki: Pki, store: MemStore, link_mtu: int | None, **tls: object) -> list[TlsFrame]:
    """The TLS frames of the server's first flight of a TTLS handshake, fragments ACKed."""
    config = TlsServerConfig(pki.server_cert, pki.server_key, client_ca_file=pki.ca, **tls)  # type: ignore[arg-type]
    s = EapSession(SessionConfig((EapType.TTLS,), MethodConfig(store, config)), 0.0, link_mtu=link_mtu)
    peer = Peer(s, pki, EapType.TTLS)
    peer.identity()
    with contextlib.suppress(SSL.WantReadError):
        peer.tls.do_handshake()
    peer.respond(EapType.TTLS, b"\x00" + peer.tls.bio_read(65536))
    frames = [TlsFrame.from_bytes(peer.last.data)]
    while frames[-1].flags & FLAG_M:
        peer.respond(EapType.TTLS, b"\x00")
        frames.append(TlsFrame.from_bytes(peer.last.data))
    return frames


def test_a_small_framed_mtu_cuts_smaller_fragments(pki: Pki, store: MemStore) -> None:
    frames = server_fragments(pki, store, 200)
    size = 200 - LINK_OVERHEAD
    total = frames[0].length
    assert total is not None and len(frames) == -(-total // size) > 2
    assert all(len(f.data) == size for f in frames[:-1])
    assert sum(len(f.data) for f in frames) == total  # nothing lost between fragments


def test_the_link_raises_nothing_above_the_configured_size(pki: Pki, store: MemStore) -> None:
    assert TlsServerConfig(pki.server_cert, pki.server_key).fragment_size == DEFAULT_FRAGMENT
    frames = server_fragments(pki, store, 1400, fragment_size=150)
    assert all(len(f.data) <= 150 for f in frames) and len(frames) > 2
    whole = server_fragments(pki, store, None)  # no Framed-MTU: the configured size (the default here)
    assert len(whole) == 1 and len(whole[0].data) < DEFAULT_FRAGMENT


def test_a_whole_handshake_over_a_small_link(pki: Pki, store: MemStore) -> None:
    s = session(pki, store, (EapType.TTLS,))
    s.link_mtu = 300
    peer = Peer(s, pki, EapType.TTLS)
    peer.handshake()
    assert peer.tls.get_protocol_version_name() == "TLSv1.2"


def request(eap: bytes, *attrs: tuple[int, bytes]) -> Packet:
    pkt = Packet(Code.ACCESS_REQUEST, 1, os.urandom(16), ((1, b"anonymous@idp.tsunagaru.test"), *attrs))
    return sign_request(with_eap_message(pkt, eap), SECRET)


def test_the_radius_front_reads_framed_mtu(pki: Pki, store: MemStore) -> None:
    config = TlsServerConfig(pki.server_cert, pki.server_key)
    h = EapRadiusHandler(FrontConfig(SECRET, SessionConfig((EapType.TTLS,), MethodConfig(store, config))))
    ident = EapPacket(EapCode.RESPONSE, 0, EapType.IDENTITY, b"anonymous@idp.tsunagaru.test").to_bytes()
    reply = h.handle(request(ident, (FRAMED_MTU, (600).to_bytes(4, "big"))), 0.0)
    assert reply is not None and reply.code == Code.ACCESS_CHALLENGE
    state = reply.get(STATE)
    assert state is not None and h.sessions[state].link_mtu == 600
    assert framed_mtu(request(ident)) is None
    assert framed_mtu(request(ident, (FRAMED_MTU, b"\x05"))) is None  # malformed: ignored, not trusted
