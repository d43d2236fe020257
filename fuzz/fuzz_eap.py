"""atheris fuzz target for the EAP decoders: EAP packets, EAP-TLS framing and reassembly, TTLS AVPs,
and a whole EAP session fed arbitrary responses (`make fuzz-eap`; a short run is part of the tests).

The property: every input ends in a typed error (MalformedEap) or a normal result; nothing else escapes.
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from tsunagaru.eap import EapType, MalformedEap, MethodConfig, SessionConfig
    from tsunagaru.eap.credentials import NtHashResult, Verdict, answer_now
    from tsunagaru.eap.diameter import parse_avps
    from tsunagaru.eap.packet import EapPacket
    from tsunagaru.eap.session import EapSession
    from tsunagaru.eap.tls_engine import Reassembler, TlsFrame


class NoUsers:
    """A store that knows nobody: the fuzzer reaches the session machine, not a database."""

    def peek(self, query: object) -> None:
        return None

    def check_password(self, username: str, password: bytes) -> Verdict:
        return Verdict.UNKNOWN_USER

    def nt_hash(self, username: str) -> NtHashResult:
        return NtHashResult(Verdict.UNKNOWN_USER)

    def check_certificate(self, certificate: object, chain_verified: bool) -> Verdict:
        return Verdict.UNKNOWN_USER


NO_USERS = NoUsers()
CONFIG = SessionConfig((EapType.MSCHAPV2,), MethodConfig(NO_USERS))


def test_one_input(data: bytes) -> None:
    with contextlib.suppress(MalformedEap):
        EapPacket.from_bytes(data)
    with contextlib.suppress(MalformedEap):
        frame = TlsFrame.from_bytes(data)
        Reassembler(65536).add(frame)
    with contextlib.suppress(MalformedEap):
        parse_avps(data)
    session = EapSession(CONFIG, 0.0)
    session.start(0.0)
    for n, chunk in enumerate(data.split(b"\xfe\xfe")[:8]):
        step = session.receive(chunk, float(n))
        while step.query is not None:  # answered as the IdP would, from the store
            step = session.resume(answer_now(NO_USERS, step.query), float(n))


def main() -> None:
    args = list(sys.argv)
    if not any(a.startswith("-max_len=") for a in args):
        args.append("-max_len=2048")
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
