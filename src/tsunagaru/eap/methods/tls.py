"""EAP-TLS (RFC 5216; TLS 1.3 per RFC 9190): mutual certificate authentication, nothing tunnelled.

The client certificate is verified by OpenSSL against ``client_ca_file`` during the handshake, then
the credential store decides (revoked, expired, disabled, unknown): the method asks
:class:`~tsunagaru.eap.credentials.CheckCertificate` and goes on with the answer. With TLS 1.3 the server sends one
octet of application data, 0x00, after the handshake: the protected success indication (RFC 9190 2.5).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography import x509

from tsunagaru.eap.credentials import CheckCertificate, CredentialAnswer, Verdict, as_verdict
from tsunagaru.eap.methods.base import MethodConfig, MethodOutcome, register
from tsunagaru.eap.methods.tls_common import TlsMethod
from tsunagaru.eap.packet import EapType

LABEL_TLS12 = b"client EAP encryption"
LABEL_TLS13 = b"EXPORTER_EAP_TLS_Key_Material"
COMMITMENT = b"\x00"


@register(EapType.TLS)
class EapTls(TlsMethod):
    eap_type = EapType.TLS
    verify_client = True

    def __init__(self, config: MethodConfig) -> None:
        super().__init__(config)
        self._verdict = Verdict.UNKNOWN_USER
        self._subject: str | None = None

    def on_established(self) -> None:
        cert = self.tunnel.peer_certificate()
        if cert is None:
            self.fail_with_alert(Verdict.UNKNOWN_USER, "no client certificate")
            return
        self._subject = _subject(cert)
        self.ask(CheckCertificate(cert, True), self._checked)

    def _checked(self, answer: CredentialAnswer) -> None:
        self._verdict = as_verdict(answer)
        if self._verdict is not Verdict.OK:
            self.fail_with_alert(self._verdict, f"client certificate refused: {self._verdict.value}")
            return
        if self.tunnel.is_tls13:
            self.send_application_data(COMMITMENT)

    def on_peer_ack(self) -> None:
        if self.tunnel.is_tls13:
            msk, emsk = self.keys(LABEL_TLS13, bytes((EapType.TLS,)))
        else:
            msk, emsk = self.keys(LABEL_TLS12)
        self.finish(MethodOutcome(True, Verdict.OK, msk, emsk, inner_identity=self._subject))


@lru_cache(maxsize=4096)
def _subject(cert: x509.Certificate) -> str:
    """The RFC 4514 subject, once per certificate (the TLS engine hands out one parsed object per DER)."""
    return cert.subject.rfc4514_string()
