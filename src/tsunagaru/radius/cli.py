"""`tsunagaru radius ...`: debugging commands for operators (what radclient -x or radsniff give).

    tsunagaru radius decode HEX [--secret S] [--request-authenticator HEX] [--dictionary FILE]

prints the packet as JSON. Malformed input prints one line with the reason and exits with 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from tsunagaru.radius.dictionary import default_dictionary, load_builtin
from tsunagaru.radius.errors import DictionaryError, MalformedPacket
from tsunagaru.radius.packet import Packet
from tsunagaru.radius.render import describe

EXIT_MALFORMED = 2


def parse_hex(text: str) -> bytes:
    """Hex as people paste it: spaces, newlines, colons and a leading ``0x`` are all fine."""
    cleaned = "".join(text.split()).replace(":", "")
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    return bytes.fromhex(cleaned)


def register(subparsers: Any) -> None:
    radius = subparsers.add_parser("radius", help="RADIUS debugging tools")
    sub = radius.add_subparsers(dest="radius_command", metavar="COMMAND")
    dec = sub.add_parser("decode", help="print a RADIUS packet given in hex as JSON")
    dec.add_argument("hex", help="the packet in hex ('-' reads it from standard input)")
    dec.add_argument("--secret", help="shared secret: reveals hidden attributes, checks authenticators")
    dec.add_argument("--request-authenticator", metavar="HEX",
                     help="Request Authenticator of the request a reply answers (checks the reply)")
    dec.add_argument("--dictionary", action="append", default=[], metavar="FILE",
                     help="extra FreeRADIUS-format dictionary file (repeatable)")
    dec.set_defaults(func=decode_command)
    radius.set_defaults(func=lambda _args: (radius.print_help(), 2)[1])


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_MALFORMED


def decode_command(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.hex == "-" else args.hex
    try:
        data = parse_hex(text)
    except ValueError:
        return _fail("input is not hex")
    request_auth = None
    if args.request_authenticator:
        try:
            request_auth = parse_hex(args.request_authenticator)
        except ValueError:
            request_auth = b""
        if len(request_auth) != 16:
            return _fail("--request-authenticator must be 16 octets of hex")
    try:
        d = load_builtin(args.dictionary) if args.dictionary else default_dictionary()
    except (OSError, DictionaryError) as exc:
        return _fail(f"dictionary: {exc}")
    try:
        packet = Packet.from_bytes(data)
    except MalformedPacket as exc:
        return _fail(f"malformed RADIUS packet: {exc.reason}")
    secret = args.secret.encode() if args.secret is not None else None
    out = describe(packet, d, secret=secret, request_authenticator=request_auth)
    out["length"] = len(packet.to_bytes())
    try:
        print(json.dumps(out, indent=2, ensure_ascii=False), flush=True)
    except BrokenPipeError:  # `| head` closed the pipe: not an error for a debugging command
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0
