"""PEAPv0 (draft-kamath-pppext-peapv0, MS-PEAP) with an inner EAP conversation, as hostapd runs it.

Inside the tunnel PEAPv0 sends inner EAP packets *without* their 4-octet header (the peer rebuilds it
from the outer one), except EAP-TLV (type 33) packets, which travel whole. After the inner method the
server sends a Result TLV (success or failure) and the peer echoes it; then the outer EAP-Success or
Failure. No Crypto-Binding TLV is sent: wpa_supplicant's default (crypto_binding=1) makes it optional,
and the MSK is then TLS-PRF(master, "client EAP encryption") as for EAP-TLS.
"""

from __future__ import annotations

import struct
from enum import Enum

from tsunagaru.eap.credentials import Verdict
from tsunagaru.eap.methods.base import MethodConfig, MethodOutcome, register
from tsunagaru.eap.methods.tls_common import TlsMethod
from tsunagaru.eap.packet import EapCode, EapPacket, EapType, MalformedEap, Reader
from tsunagaru.eap.session import EapSession, SessionConfig, SessionOutcome, Step
from tsunagaru.eap.tls_config import TlsServerConfig

LABEL_TLS12 = b"client EAP encryption"
LABEL_TLS13 = b"EXPORTER_EAP_TLS_Key_Material"
TLV_RESULT = 3
TLV_MANDATORY = 0x8000
TLV_TYPE_MASK = 0x3FFF
RESULT_SUCCESS = 1
RESULT_FAILURE = 2
MAX_TLVS = 16
_IDENTITY = int(EapType.IDENTITY)


class Phase(Enum):
    HANDSHAKE = "handshake"
    INNER = "inner"
    RESULT_SENT = "result-sent"


def result_tlv_request(identifier: int, success: bool) -> bytes:
    """A whole EAP-Request/TLV carrying one mandatory Result TLV."""
    status = RESULT_SUCCESS if success else RESULT_FAILURE
    tlv = struct.pack("!HHH", TLV_MANDATORY | TLV_RESULT, 2, status)
    return EapPacket(EapCode.REQUEST, identifier & 0xFF, EapType.TLV, tlv).to_bytes()


def parse_result(data: bytes) -> int:
    """The status of the Result TLV in an EAP-TLV payload (bounded walk of the TLVs)."""
    r = Reader(data)
    status: int | None = None
    for _ in range(MAX_TLVS):
        if not r.remaining():
            break
        tlv_type = r.u16("TLV type") & TLV_TYPE_MASK
        value = r.take(r.u16("TLV length"), "TLV value")
        if tlv_type == TLV_RESULT:
            if len(value) != 2:
                raise MalformedEap("Result TLV is not 2 octets")
            status = int.from_bytes(value, "big")
            if status not in (1, 2):  # MS-PEAP 2.2.8.1: 1 success, 2 failure; anything else is malformed
                raise MalformedEap(f"Result TLV status {status} is neither success nor failure")
    else:
        if r.remaining():
            raise MalformedEap(f"more than {MAX_TLVS} TLVs")
    if status is None:
        raise MalformedEap("EAP-TLV without a Result TLV")
    return status


@register(EapType.PEAP)
class EapPeap(TlsMethod):
    eap_type = EapType.PEAP
    version_bits = 0

    def __init__(self, config: MethodConfig) -> None:
        super().__init__(config)
        self.phase = Phase.HANDSHAKE
        self.inner = EapSession(SessionConfig(config.inner_eap_methods, config), 0.0)
        self._inner_outcome: SessionOutcome | None = None
        self._inner_id = 0

    def allows_tls13(self, tls: TlsServerConfig) -> bool:
        return tls.tls13_tunnels

    def on_established(self) -> None:
        # The first inner request goes out with the server's Finished (TLS 1.2) or post-handshake records
        # (TLS 1.3) instead of waiting for the peer to ACK them: one round trip less per login.
        # wpa_supplicant takes application data in the handshake's last message (its pending phase-2
        # request) if it is a whole EAP-Request/Identity; see _send_inner.
        self.on_peer_ack()

    def on_peer_ack(self) -> None:
        if self.phase is not Phase.HANDSHAKE:
            raise MalformedEap("empty PEAP response with nothing outstanding")
        self.phase = Phase.INNER
        self.inner.created = self.now  # the inner conversation starts now (real time, not 0)
        self._send_inner(self.inner.start(self.now))

    def on_application_data(self, data: bytes) -> None:
        if self.phase is Phase.INNER:
            self._inner_response(data)
        elif self.phase is Phase.RESULT_SENT:
            self._result_response(data)
        else:
            raise MalformedEap("PEAP data before the tunnel's first inner request")

    def _send_inner(self, packet: bytes) -> None:
        self._inner_id = packet[1]
        if len(packet) == 5 and packet[4] == _IDENTITY:
            # A bare Identity request travels whole, as FreeRADIUS sends it: peers recognise the 5-octet
            # packet (wpa_supplicant keeps its header), and wpa_supplicant takes nothing else with the
            # server's Finished (it does not put the header back on a request that came with it).
            self.send_application_data(packet)
        else:
            self.send_application_data(packet[4:])  # PEAPv0: no EAP header inside

    def _inner_response(self, data: bytes) -> None:
        full = struct.pack("!BBH", EapCode.RESPONSE, self._inner_id, 4 + len(data)) + data
        self._inner_step(self.inner.receive(full, self.now))

    def _inner_step(self, step: Step) -> None:
        if step.query is not None:  # the inner method (MSCHAPv2) asks the store: so do we, for it
            self.ask(step.query, lambda answer: self._inner_step(self.inner.resume(answer, self.now)))
            return
        if step.outcome is not None:
            self._inner_outcome = step.outcome
            self.phase = Phase.RESULT_SENT
            self._inner_id = (self._inner_id + 1) & 0xFF
            self.send_application_data(result_tlv_request(self._inner_id, step.outcome.success))
        elif step.reply is not None:
            self._send_inner(step.reply)
        else:
            raise MalformedEap("the inner EAP packet was discarded")

    def _result_response(self, data: bytes) -> None:
        pkt = EapPacket.from_bytes(data)
        if pkt.code != EapCode.RESPONSE or pkt.type != EapType.TLV:
            raise MalformedEap("PEAP expected an EAP-TLV response carrying the Result")
        status = parse_result(pkt.data)
        inner = self._inner_outcome
        assert inner is not None
        if not inner.success:
            self.fail(inner.verdict, f"inner EAP: {inner.reason}")
        elif status != RESULT_SUCCESS:
            self.fail(Verdict.BAD_CREDENTIALS, "peer answered the Result TLV with failure")
        else:
            if self.tunnel.is_tls13:
                msk, emsk = self.keys(LABEL_TLS13, bytes((EapType.PEAP,)))
            else:
                msk, emsk = self.keys(LABEL_TLS12)
            self.finish(MethodOutcome(True, Verdict.OK, msk, emsk, inner_identity=inner.identity))
