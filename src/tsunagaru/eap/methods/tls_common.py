"""What EAP-TLS, TTLS and PEAP share: Start, fragment ACKs both ways, the handshake, alerts.

Subclasses add only what happens once the tunnel stands (``on_established``), when application data
arrives (``on_application_data``) and when the peer acknowledges our last flight (``on_peer_ack``).
"""

from __future__ import annotations

from tsunagaru.eap.credentials import CredentialAnswer, Verdict
from tsunagaru.eap.methods.base import EapMethod, MethodConfig, MethodOutcome
from tsunagaru.eap.packet import MalformedEap
from tsunagaru.eap.tls_config import TlsServerConfig
from tsunagaru.eap.tls_engine import (
    FLAG_S,
    Fragmenter,
    Reassembler,
    TlsFailure,
    TlsFrame,
    TlsTunnel,
    fragment_size,
)

X509_V_ERR_CERT_HAS_EXPIRED = 10  # OpenSSL's verify error: Reject-Reason 12, not 10


class TlsMethod(EapMethod):
    """Base for the TLS-based methods; one conversation, one tunnel."""

    version_bits = 0  # TTLS v0, PEAPv0
    verify_client = False

    def __init__(self, config: MethodConfig) -> None:
        super().__init__(config)
        tls = config.tls
        if tls is None:
            raise ValueError(f"EAP type {self.eap_type} needs a TLS server configuration")
        self.tls = tls
        # Made when the peer's first TLS message arrives: a peer that Naks the method proposed first
        # (a TLS method, often) never needs one, and an SSL object costs ~50 us to set up.
        self._tunnel: TlsTunnel | None = None
        self._out = Fragmenter(tls.fragment_size)
        self._in = Reassembler(tls.max_message)
        self._start_pending = True
        self._messages = 0  # whole TLS messages received (the first is the ClientHello)
        self._ack_peer = False
        self._failing: MethodOutcome | None = None

    @property
    def tunnel(self) -> TlsTunnel:
        tunnel = self._tunnel
        if tunnel is None:
            tunnel = self._tunnel = TlsTunnel(self.tls, verify_client=self.verify_client,
                                              tls13=self.allows_tls13(self.tls))
        return tunnel

    def allows_tls13(self, tls: TlsServerConfig) -> bool:
        """EAP-TLS always may use TLS 1.3; the tunnel methods only when configured (RFC 9427)."""
        return True

    # -- EapMethod ------------------------------------------------------------------------------------

    def init(self, identity: str, link_mtu: int | None = None) -> None:
        super().init(identity, link_mtu)
        # Fragments as large as the link allows: each one less is a RADIUS round trip less (a P-256
        # server flight of ~1.3 kB takes two at 1024 octets, one at a Framed-MTU of 1400).
        self._out.size = fragment_size(self.tls.fragment_size, link_mtu)

    def build_request(self) -> bytes:
        if self._start_pending:
            self._start_pending = False
            return bytes((FLAG_S | self.version_bits,))
        if self._ack_peer:
            self._ack_peer = False
            return bytes((self.version_bits,))
        return self._out.next_frame(self.version_bits, always_length=self.tunnel.is_tls13)

    def process_response(self, data: bytes) -> None:
        frame = TlsFrame.from_bytes(data)
        if self._out.has_output():
            if not frame.is_ack():
                raise MalformedEap("peer sent data while we were sending fragments")
            return
        if self._failing is not None:
            self.finish(self._failing)
            return
        message = self._in.add(frame)
        if message is None:
            self._ack_peer = True
            return
        self._messages += 1
        try:
            self._on_message(message)
        except TlsFailure as exc:
            self._tls_failed(exc)
            return
        if self.pending is None:  # else the round goes on in after_answer, once the store has answered
            self._flush()

    def resume(self, answer: CredentialAnswer) -> None:
        try:
            super().resume(answer)
        except TlsFailure as exc:  # the answer's continuation wrote into a tunnel that failed
            self._tls_failed(exc)

    def after_answer(self) -> None:
        """The credential question is answered: read what else the tunnel holds, then send our flight."""
        try:
            if self.tunnel.established:
                self._deliver(self.tunnel.read())
        except TlsFailure as exc:
            self._tls_failed(exc)
            return
        if self.pending is None:
            self._flush()

    def _tls_failed(self, exc: TlsFailure) -> None:
        expired = self.tunnel.peer_verify_error == X509_V_ERR_CERT_HAS_EXPIRED
        self.fail_with_alert(Verdict.EXPIRED if expired else Verdict.BAD_CREDENTIALS, str(exc))

    # -- hooks ----------------------------------------------------------------------------------------

    def on_established(self) -> None:
        """The handshake just completed (server Finished is in the output)."""

    def on_application_data(self, data: bytes) -> None:
        raise MalformedEap(f"unexpected application data ({len(data)} octets)")

    def on_peer_ack(self) -> None:
        """The peer sent an empty frame after our last flight of a standing tunnel."""
        raise MalformedEap("unexpected empty response")

    # -- helpers for subclasses -----------------------------------------------------------------------

    def fail_with_alert(self, verdict: Verdict, reason: str) -> None:
        """Fail, but first deliver whatever TLS queued (an alert) and wait for the peer's ACK."""
        outcome = MethodOutcome(False, verdict, reason=reason)
        pending = self.tunnel.output()
        if pending:
            self._out.load(pending)
            self._failing = outcome
        else:
            self.finish(outcome)

    def send_application_data(self, data: bytes) -> None:
        self.tunnel.write(data)

    def keys(self, label: bytes, context: bytes | None = None) -> tuple[bytes, bytes]:
        """MSK and EMSK (64 octets each) from the tunnel's exporter."""
        material = self.tunnel.export(label, 128, context)
        return material[:64], material[64:]

    # -- internals ------------------------------------------------------------------------------------

    def _on_message(self, message: bytes) -> None:
        if not self.tunnel.established:
            self.tunnel.feed(message)
            if self.tunnel.handshake():
                self.on_established()
                if not self.is_done() and self.pending is None:
                    self._deliver(self.tunnel.read())
            return
        if not message:
            self.on_peer_ack()
            return
        self.tunnel.feed(message)
        self._deliver(self.tunnel.read())

    def _deliver(self, data: bytes) -> None:
        if data and not self.is_done() and self.pending is None:
            self.on_application_data(data)

    def _flush(self) -> None:
        out = self.tunnel.output()
        if out:
            self._out.load(out)
        elif self.is_done() or self._failing is not None:
            return
        elif self.tunnel.established:
            self._ack_peer = True  # e.g. TLS 1.3 without tickets: an empty request asks for phase 2
        else:
            raise MalformedEap("the peer's message left nothing to answer")
