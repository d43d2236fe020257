"""EAP-TTLSv0 (RFC 5281): a TLS tunnel carrying Diameter AVPs, with inner PAP, MSCHAPv2 or EAP.

* PAP: User-Name + User-Password (NUL-padded); the outer EAP-Success follows at once.
* MSCHAPv2 (RFC 5281 11.2.4): the challenge is implicit, TLS-PRF "ttls challenge" (16 octets + ident);
  the server answers MS-CHAP2-Success in the tunnel, the peer acknowledges with an empty frame.
* EAP: EAP-Message AVPs carry a whole inner conversation, run by an inner :class:`EapSession`.
"""

from __future__ import annotations

import hmac
from enum import Enum
from typing import TYPE_CHECKING

from tsunagaru.eap import diameter as d
from tsunagaru.eap import mschapv2_crypto as mc
from tsunagaru.eap.credentials import (
    CredentialAnswer,
    LookupNtHash,
    NtHashResult,
    Verdict,
    VerifyPassword,
    as_nt_hash,
    as_verdict,
)
from tsunagaru.eap.methods.base import MethodConfig, MethodOutcome, register
from tsunagaru.eap.methods.mschapv2 import strip_domain
from tsunagaru.eap.methods.tls_common import TlsMethod
from tsunagaru.eap.packet import EapType, MalformedEap
from tsunagaru.eap.tls_config import TlsServerConfig

if TYPE_CHECKING:
    from tsunagaru.eap.session import Step

LABEL_TLS12 = b"ttls keying material"
LABEL_TLS13 = b"EXPORTER_EAP_TLS_Key_Material"
LABEL_CHALLENGE = b"ttls challenge"


class Phase(Enum):
    WAIT_AVPS = "wait-avps"
    INNER_EAP = "inner-eap"
    MSCHAPV2_SUCCESS_SENT = "mschapv2-success-sent"


@register(EapType.TTLS)
class EapTtls(TlsMethod):
    eap_type = EapType.TTLS

    def __init__(self, config: MethodConfig) -> None:
        super().__init__(config)
        self.phase = Phase.WAIT_AVPS
        self._inner_identity: str | None = None
        self._inner: object = None  # an EapSession once inner EAP starts (imported lazily: no cycle)

    def allows_tls13(self, tls: TlsServerConfig) -> bool:
        return tls.tls13_tunnels

    def success(self, inner_identity: str | None) -> None:
        if self.tunnel.is_tls13:
            msk, emsk = self.keys(LABEL_TLS13, bytes((EapType.TTLS,)))
        else:
            msk, emsk = self.keys(LABEL_TLS12)
        self.finish(MethodOutcome(True, Verdict.OK, msk, emsk, inner_identity=inner_identity))

    def on_application_data(self, data: bytes) -> None:
        avps = d.parse_avps(data)
        eap = d.eap_payload(avps)
        if self.phase is Phase.INNER_EAP or eap is not None:
            self._inner_eap(avps, eap)
        elif self.phase is not Phase.WAIT_AVPS:
            raise MalformedEap(f"AVPs in phase {self.phase.value}")
        elif d.find(avps, d.USER_PASSWORD) is not None:
            self._pap(avps)
        elif d.find(avps, d.MS_CHAP2_RESPONSE, d.MICROSOFT) is not None:
            self._mschapv2(avps)
        else:
            self.fail_with_alert(Verdict.METHOD_NOT_ALLOWED, "no supported inner authentication")

    def on_peer_ack(self) -> None:
        if self.phase is not Phase.MSCHAPV2_SUCCESS_SENT:
            raise MalformedEap("empty TTLS response with nothing outstanding")
        self.success(self._inner_identity)

    # -- inner methods --------------------------------------------------------------------------------

    def _user(self, avps: list[d.Avp]) -> str:
        raw = d.find(avps, d.USER_NAME)
        if raw is None:
            raise MalformedEap("inner User-Name AVP missing")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedEap("inner User-Name is not UTF-8") from exc

    def _pap(self, avps: list[d.Avp]) -> None:
        user = self._user(avps)
        password = (d.find(avps, d.USER_PASSWORD) or b"").rstrip(b"\x00")
        self.ask(VerifyPassword(user, password), lambda answer: self._pap_checked(user, as_verdict(answer)))

    def _pap_checked(self, user: str, verdict: Verdict) -> None:
        if verdict is Verdict.OK:
            self.success(user)
        else:
            self.fail(verdict, f"PAP refused for {user!r}: {verdict.value}")

    def _mschapv2(self, avps: list[d.Avp]) -> None:
        user = self._user(avps)
        challenge = d.find(avps, d.MS_CHAP_CHALLENGE, d.MICROSOFT) or b""
        response = d.find(avps, d.MS_CHAP2_RESPONSE, d.MICROSOFT) or b""
        implicit = self.tunnel.export(LABEL_CHALLENGE, 17)
        if len(response) != 50 or not hmac.compare_digest(challenge, implicit[:16]):
            raise MalformedEap("MS-CHAP-Challenge is not the implicit challenge, or bad MS-CHAP2-Response")
        if response[0] != implicit[16]:
            raise MalformedEap("MS-CHAP2-Response ident does not match the implicit challenge")
        name = strip_domain(user)
        self.ask(LookupNtHash(name),
                 lambda answer: self._mschapv2_checked(as_nt_hash(answer), user, name, challenge, response))

    def _mschapv2_checked(self, stored: NtHashResult, user: str, name: str, challenge: bytes,
                          response: bytes) -> None:
        if stored.verdict is not Verdict.OK or stored.nt_hash is None:
            self.fail(stored.verdict, f"no NT hash for {user!r}")
            return
        peer_challenge, nt_response = response[2:18], response[26:50]
        expected = mc.generate_nt_response(challenge, peer_challenge, name.encode(), stored.nt_hash)
        if not hmac.compare_digest(expected, nt_response):
            self.fail(Verdict.BAD_CREDENTIALS, f"MSCHAPv2 refused for {user!r}")
            return
        auth = mc.generate_authenticator_response(
            stored.nt_hash, nt_response, peer_challenge, challenge, name.encode()
        )
        reply = d.Avp(d.MS_CHAP2_SUCCESS, bytes((response[0],)) + auth, d.MICROSOFT)
        self.send_application_data(reply.to_bytes())
        self._inner_identity = user
        self.phase = Phase.MSCHAPV2_SUCCESS_SENT

    def _inner_eap(self, avps: list[d.Avp], eap: bytes | None) -> None:
        from tsunagaru.eap.session import EapSession, SessionConfig

        if eap is None:
            raise MalformedEap("inner EAP conversation without an EAP-Message AVP")
        if not isinstance(self._inner, EapSession):
            inner_config = SessionConfig(self.config.inner_eap_methods, self.config)
            self._inner = EapSession(inner_config, self.now)
            self.phase = Phase.INNER_EAP
        assert isinstance(self._inner, EapSession)
        self._inner_step(self._inner.receive(eap, self.now))

    def _inner_step(self, step: Step) -> None:
        if step.query is not None:  # the inner method asks the store: so do we, for it
            self.ask(step.query, self._inner_answered)
            return
        if step.outcome is not None:
            if step.outcome.success:
                self.success(step.outcome.identity)
            else:
                self.fail(step.outcome.verdict, f"inner EAP: {step.outcome.reason}")
        elif step.reply is not None:
            self.send_application_data(d.Avp(d.EAP_MESSAGE, step.reply).to_bytes())
        else:
            raise MalformedEap("the inner EAP packet was discarded")

    def _inner_answered(self, answer: CredentialAnswer) -> None:
        from tsunagaru.eap.session import EapSession

        assert isinstance(self._inner, EapSession)
        self._inner_step(self._inner.resume(answer, self.now))
