"""EAP-MSCHAPv2 server (draft-kamath-pppext-eap-mschapv2; RFC 2759 crypto), mostly run inside PEAP/TTLS.

Rounds: Challenge -> Response -> Success-Request (S=...) -> Success ack, or Failure-Request (E=691)
-> Failure ack. The MS-CHAPv2-ID must echo ours; MS-Length must match the packet.
"""

from __future__ import annotations

import hmac
import os
import struct
from enum import Enum

from tsunagaru.eap import mschapv2_crypto as mc
from tsunagaru.eap.credentials import CredentialAnswer, LookupNtHash, Verdict, as_nt_hash
from tsunagaru.eap.methods.base import EapMethod, MethodConfig, MethodOutcome, register
from tsunagaru.eap.packet import EapType, MalformedEap, Reader

CHALLENGE = 1
RESPONSE = 2
SUCCESS = 3
FAILURE = 4


class Phase(Enum):
    CHALLENGE = "challenge"
    SUCCESS_SENT = "success-sent"
    FAILURE_SENT = "failure-sent"


def strip_domain(name: str) -> str:
    """``DOMAIN\\user`` -> ``user`` (what Windows peers send and RFC 2759 hashes)."""
    return name.rsplit("\\", 1)[-1]


@register(EapType.MSCHAPV2)
class EapMschapV2(EapMethod):
    eap_type = EapType.MSCHAPV2

    def __init__(self, config: MethodConfig) -> None:
        super().__init__(config)
        self.challenge = os.urandom(16)
        self.ms_id = os.urandom(1)[0]
        self.phase = Phase.CHALLENGE
        self._message = b""
        self._result: MethodOutcome | None = None

    def build_request(self) -> bytes:
        if self.phase is Phase.CHALLENGE:
            name = self.config.server_name.encode()
            return self._opcode(CHALLENGE, bytes((16,)) + self.challenge + name)
        opcode = SUCCESS if self.phase is Phase.SUCCESS_SENT else FAILURE
        return self._opcode(opcode, self._message)

    def _opcode(self, opcode: int, body: bytes) -> bytes:
        return struct.pack("!BBH", opcode, self.ms_id, 4 + len(body)) + body

    def process_response(self, data: bytes) -> None:
        r = Reader(data)
        opcode = r.u8("MS-CHAPv2 OpCode")
        if self.phase is Phase.CHALLENGE:
            if opcode != RESPONSE:
                raise MalformedEap(f"MS-CHAPv2 OpCode {opcode} where a Response was due")
            self._check_response(r)
        elif (self.phase, opcode) in ((Phase.SUCCESS_SENT, SUCCESS), (Phase.FAILURE_SENT, FAILURE)):
            assert self._result is not None
            self.finish(self._result)
        else:
            raise MalformedEap(f"MS-CHAPv2 OpCode {opcode} in phase {self.phase.value}")

    def _check_response(self, r: Reader) -> None:
        if r.u8("MS-CHAPv2-ID") != self.ms_id:
            raise MalformedEap("MS-CHAPv2-ID does not echo ours")
        if r.u16("MS-Length") != r.remaining() + 4:
            raise MalformedEap("MS-Length does not match the packet")
        if r.u8("Value-Size") != 49:
            raise MalformedEap("MS-CHAPv2 Response Value-Size is not 49")
        peer_challenge = r.take(16, "Peer-Challenge")
        r.take(8, "reserved")
        nt_response = r.take(24, "NT-Response")
        r.take(1, "flags")
        name = r.rest()
        self.verify(name, peer_challenge, nt_response)

    def verify(self, name: bytes, peer_challenge: bytes, nt_response: bytes) -> None:
        """Ask for the stored NT hash; the answer checks the NT-Response and queues Success or Failure."""
        user = strip_domain(self.identity or name.decode("utf-8", "replace"))
        if strip_domain(name.decode("utf-8", "replace")) != user:
            self._deny(Verdict.BAD_CREDENTIALS, "MS-CHAPv2 name differs from the EAP identity")
            return
        self.ask(LookupNtHash(user), lambda answer: self._check(answer, user, name, peer_challenge, nt_response))

    def _check(self, answer: CredentialAnswer, user: str, name: bytes, peer_challenge: bytes,
               nt_response: bytes) -> None:
        stored = as_nt_hash(answer)
        if stored.verdict is not Verdict.OK or stored.nt_hash is None:
            self._deny(stored.verdict, f"no NT hash: {stored.verdict.value}")
            return
        username = strip_domain(name.decode("utf-8", "replace")).encode()
        expected = mc.generate_nt_response(self.challenge, peer_challenge, username, stored.nt_hash)
        if not hmac.compare_digest(expected, nt_response):
            self._deny(Verdict.BAD_CREDENTIALS, "wrong password")
            return
        auth = mc.generate_authenticator_response(
            stored.nt_hash, nt_response, peer_challenge, self.challenge, username
        )
        master = mc.master_key(stored.nt_hash, nt_response)
        msk = mc.asymmetric_start_key(master, 16, is_send=False, is_server=True) + mc.asymmetric_start_key(
            master, 16, is_send=True, is_server=True
        )
        self._result = MethodOutcome(True, Verdict.OK, msk, inner_identity=user)
        self._message = auth + b" M=Welcome"
        self.phase = Phase.SUCCESS_SENT

    def _deny(self, verdict: Verdict, reason: str) -> None:
        self._result = MethodOutcome(False, verdict, reason=reason)
        self._message = (
            b"E=691 R=0 C=" + self.challenge.hex().upper().encode() + b" V=3 M=Authentication failed"
        )
        self.phase = Phase.FAILURE_SENT
