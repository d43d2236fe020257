"""Sans-IO EAP server: a session machine, one TLS engine, and methods behind one interface.

The API the IdP uses::

    from tsunagaru.eap import EapSession, SessionConfig, MethodConfig, TlsServerConfig
    config = SessionConfig((EapType.TTLS, EapType.PEAP, EapType.TLS),
                           MethodConfig(store, TlsServerConfig(cert, key, client_ca_file=ca)))
    session = EapSession(config, now)
    step = session.receive(eap_bytes, now)      # Step(reply, state, outcome, query)
    while step.query is not None:               # e.g. VerifyPassword(user, password): the adapter answers
        step = session.resume(answer, now)      # from its cache, or later from a worker thread

Errors: parsers raise :class:`MalformedEap` only; the session turns it into EAP-Failure with
Reject-Reason 30. Store verdicts (:class:`Verdict`) become Reject-Reasons 10/11/12. The methods never
call the store: see :mod:`tsunagaru.eap.credentials`.
"""

from tsunagaru.eap.credentials import CredentialStore, NtHashResult, Verdict
from tsunagaru.eap.methods.base import EapMethod, MethodConfig, MethodOutcome
from tsunagaru.eap.packet import EapCode, EapPacket, EapType, MalformedEap
from tsunagaru.eap.session import EapSession, SessionConfig, SessionOutcome, State, Step
from tsunagaru.eap.tls_config import TlsServerConfig

__all__ = [
    "CredentialStore",
    "EapCode",
    "EapMethod",
    "EapPacket",
    "EapSession",
    "EapType",
    "MalformedEap",
    "MethodConfig",
    "MethodOutcome",
    "NtHashResult",
    "SessionConfig",
    "SessionOutcome",
    "State",
    "Step",
    "TlsServerConfig",
    "Verdict",
]
