"""A small in-memory EAP peer (pyOpenSSL client over memory BIOs) to drive sessions in unit tests."""

from __future__ import annotations

from OpenSSL import SSL

from tests.eap.certs import Pki
from tests.eap.helpers import settle
from tsunagaru.eap.packet import EapCode, EapPacket, EapType
from tsunagaru.eap.session import EapSession, Step
from tsunagaru.eap.tls_engine import FLAG_M, TlsFrame


class Peer:
    """Talks to one :class:`EapSession`; ``last`` is the last EAP packet the server sent."""

    def __init__(self, session: EapSession, pki: Pki, eap_type: int, *, client_cert: bool = False) -> None:
        self.session = session
        self.eap_type = eap_type
        self.now = 0.0
        ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
        ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
        ctx.load_verify_locations(str(pki.ca))
        if client_cert:
            ctx.use_certificate_file(str(pki.client_cert))
            ctx.use_privatekey_file(str(pki.client_key))
        self.tls = SSL.Connection(ctx, None)
        self.tls.set_connect_state()
        self.last = EapPacket(EapCode.REQUEST, 0)
        self.step: Step | None = None

    def send_raw(self, raw: bytes) -> Step:
        self.step = settle(self.session, self.session.receive(raw, self.now), self.now)
        if self.step.reply is not None:
            self.last = EapPacket.from_bytes(self.step.reply)
        return self.step

    def respond(self, eap_type: int, data: bytes) -> Step:
        return self.send_raw(EapPacket(EapCode.RESPONSE, self.last.identifier, eap_type, data).to_bytes())

    def identity(self, name: str = "anonymous@idp.tsunagaru.test") -> Step:
        return self.send_raw(EapPacket(EapCode.RESPONSE, 0, EapType.IDENTITY, name.encode()).to_bytes())

    def tls_message(self, data: bytes) -> bytes:
        """Send one TLS message (unfragmented); ACK the server's fragments; return its whole reply."""
        self.respond(self.eap_type, bytes((0,)) + data)
        return self._collect()

    def _collect(self) -> bytes:
        parts = []
        while self.last.code == EapCode.REQUEST and self.last.type == self.eap_type:
            frame = TlsFrame.from_bytes(self.last.data)
            parts.append(frame.data)
            if not frame.flags & FLAG_M:
                break
            self.respond(self.eap_type, b"\x00")
        return b"".join(parts)

    def handshake(self) -> None:
        """Identity, Start, then the TLS handshake until the client has read the server's Finished."""
        self.identity()
        while True:
            try:
                self.tls.do_handshake()
                return
            except SSL.WantReadError:
                pass
            self.tls.bio_write(self.tls_message(self.tls.bio_read(65536)))

    def app(self, data: bytes) -> bytes:
        """Send application data through the tunnel; return decrypted application data of the reply."""
        self.tls.sendall(data)
        return self._read(self.tls_message(self.tls.bio_read(65536)))

    def ack(self) -> bytes:
        self.respond(self.eap_type, b"\x00")
        return self._read(self._collect())

    def early_data(self) -> bytes:
        """Application data that came with the server's last handshake flight (already fed)."""
        try:
            return bytes(self.tls.recv(65536))
        except SSL.Error:
            return b""

    def _read(self, records: bytes) -> bytes:
        if not records:
            return b""
        self.tls.bio_write(records)
        try:
            return bytes(self.tls.recv(65536))
        except SSL.Error:  # WantRead, or an alert from the server: nothing to read either way
            return b""
