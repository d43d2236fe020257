"""atheris fuzz target for the PEAP readers: the EAP-TLV Result walk (bounded at MAX_TLVS) and the inner
EAP packet as PEAPv0 carries it, header stripped (`make fuzz-peap`; a short run is part of the tests).

Properties: every input ends in MalformedEap or a status of 1 (success) or 2 (failure) found within
MAX_TLVS TLVs; the Result TLV we send reads back as what we meant.
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    from tsunagaru.eap import MalformedEap
    from tsunagaru.eap.methods import peap
    from tsunagaru.eap.packet import EapCode, EapPacket


def test_one_input(data: bytes) -> None:
    with contextlib.suppress(MalformedEap):
        status = peap.parse_result(data)
        assert status in (1, 2), status
    with contextlib.suppress(MalformedEap):  # an inner packet without its header, rebuilt as the peer does
        EapPacket.from_bytes(bytes((EapCode.RESPONSE, data[0] if data else 0))
                             + (4 + len(data)).to_bytes(2, "big") + data)
    if data:
        sent = EapPacket.from_bytes(peap.result_tlv_request(data[0], bool(data[0] & 1)))
        assert peap.parse_result(sent.data) == (1 if data[0] & 1 else 2)


def main() -> None:
    args = list(sys.argv)
    if not any(a.startswith("-max_len=") for a in args):
        args.append("-max_len=1024")
    atheris.Setup(args, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
