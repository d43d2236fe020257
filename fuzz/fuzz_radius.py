"""atheris fuzz target for the RADIUS decoder (`make fuzz`; a short run is part of the tests).

Properties checked on every input: ``Packet.from_bytes`` raises MalformedPacket or nothing; a decoded
packet re-encodes to exactly the octets it came from (up to its Length field); attribute decoding,
the JSON rendering and authenticator checks never raise anything but the typed errors.
"""

from __future__ import annotations

import atexit
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from tsunagaru.radius import (
        AuthenticatorMismatch,
        MalformedPacket,
        Packet,
        Secrets,
        decode_packet,
        default_dictionary,
        hiding,
        verify_request,
    )
    from tsunagaru.radius.render import describe

SECRET = b"testing123"
SEEDS = Path(__file__).with_name("corpus")
DICTIONARY = default_dictionary()


def check_packet(data: bytes) -> None:
    try:
        packet = Packet.from_bytes(data)
    except MalformedPacket:
        return
    wire = packet.to_bytes()
    if wire != data[: len(wire)]:
        raise AssertionError("re-encoding changed the packet")
    decode_packet(packet, DICTIONARY)
    decode_packet(packet, DICTIONARY, Secrets(SECRET, packet.authenticator))
    describe(packet, DICTIONARY, secret=SECRET, request_authenticator=packet.authenticator)
    with contextlib.suppress(AuthenticatorMismatch, MalformedPacket):
        verify_request(packet, SECRET, require_message_authenticator=True)


def check_hiding(data: bytes) -> None:
    auth = data[:16].ljust(16, b"\0")
    for reveal in (hiding.reveal_user_password, hiding.salt_decrypt):
        with contextlib.suppress(MalformedPacket):
            reveal(data[16:], SECRET, auth)


def test_one_input(data: bytes) -> None:
    check_packet(data)
    if data[:1] == b"\xff":
        check_hiding(data[1:])


def _argv_with_seeds(argv: list[str]) -> list[str]:
    """Start from the shipped seed packets (copied: libFuzzer writes new inputs into its corpus dir)."""
    args = list(argv)
    if not any(a.startswith("-max_len=") for a in args):
        args.append("-max_len=4096")
    if not any(not a.startswith("-") for a in args[1:]):
        work = Path(tempfile.mkdtemp(prefix="fuzz-radius-"))
        atexit.register(shutil.rmtree, work, True)
        for seed in SEEDS.glob("*.bin"):
            shutil.copy(seed, work)
        args.append(str(work))
    return args


def main() -> None:
    atheris.Setup(_argv_with_seeds(sys.argv), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
