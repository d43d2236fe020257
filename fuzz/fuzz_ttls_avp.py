"""atheris fuzz target for the TTLS phase-2 reader: Diameter AVPs (RFC 5281 10.1) as the tunnel delivers
them, and the lookups the inner methods make (`make fuzz-ttls`; a short run is part of the tests).

Properties: every input ends in MalformedEap or a list of at most MAX_AVPS AVPs; what parses re-encodes
to bytes that parse to the same AVPs (so the reader and the writer agree on lengths, flags and padding).
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from tsunagaru.eap import MalformedEap
    from tsunagaru.eap import diameter as d


def test_one_input(data: bytes) -> None:
    with contextlib.suppress(MalformedEap):
        avps = d.parse_avps(data)
        assert len(avps) <= d.MAX_AVPS
        assert d.parse_avps(d.encode_avps(avps)) == avps
        d.find(avps, d.USER_NAME)
        d.find(avps, d.MS_CHAP2_RESPONSE, d.MICROSOFT)
        payload = d.eap_payload(avps)
        assert payload is None or isinstance(payload, bytes)


def main() -> None:
    args = list(sys.argv)
    if not any(a.startswith("-max_len=") for a in args):
        args.append("-max_len=4096")
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
