"""Benchmark: decode + encode of a typical Access-Request, ours side by side with pyrad, same bytes.

Run with ``make bench`` (or ``.venv/bin/python bench/radius_codec.py [--seconds S]``). Not a test: it
prints rates and the ratio and never fails on speed. Each side is timed in rounds bounded by both a
count and a time budget; rounds of the two libraries alternate and each keeps its best round (the
least disturbed by other load on the machine). Our ``wire`` figure includes the codec keeping the
octets a packet was decoded from, so re-encoding an unchanged packet costs nothing.

Two workloads, each done by both libraries on the same datagram:

* ``wire``: parse the datagram into a packet object and serialise it again;
* ``full``: parse, verify Message-Authenticator, decode every attribute to a named value (VSAs
  included), then serialise again with a fresh Message-Authenticator.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Callable

from tsunagaru.radius import (
    Code,
    Packet,
    decode_packet,
    default_dictionary,
    encode,
    sign_request,
    verify_request,
)

SECRET = b"testing123"

# The attributes pyrad needs to decode the same packet, in FreeRADIUS format (pyrad reads that too).
PYRAD_DICTIONARY = """
ATTRIBUTE User-Name 1 string
ATTRIBUTE NAS-IP-Address 4 ipaddr
ATTRIBUTE Service-Type 6 integer
ATTRIBUTE Framed-MTU 12 integer
ATTRIBUTE Vendor-Specific 26 octets
ATTRIBUTE Called-Station-Id 30 string
ATTRIBUTE Calling-Station-Id 31 string
ATTRIBUTE NAS-Identifier 32 string
ATTRIBUTE Acct-Session-Id 44 string
ATTRIBUTE NAS-Port-Type 61 integer
ATTRIBUTE Connect-Info 77 string
ATTRIBUTE EAP-Message 79 octets
ATTRIBUTE Message-Authenticator 80 octets
ATTRIBUTE Chargeable-User-Identity 89 octets
ATTRIBUTE Operator-Name 126 string
VENDOR WFA 40808
BEGIN-VENDOR WFA
ATTRIBUTE WFA-HS20-AP-Version 2 byte
ATTRIBUTE WFA-HS20-STA-Version 3 octets
ATTRIBUTE WFA-HS20-Roaming-Consortium 6 octets
END-VENDOR WFA
VENDOR WBA 14122
BEGIN-VENDOR WBA
ATTRIBUTE WBA-Offered-Service 12 string
END-VENDOR WBA
"""


def typical_access_request() -> bytes:
    """What a Passpoint AP sends mid-EAP: EAP-Message (split), Message-Authenticator first, a few VSAs."""
    d = default_dictionary()
    eap = bytes((2, 5)) + (300).to_bytes(2, "big") + bytes((21, 0)) + os.urandom(294)  # EAP-TTLS data
    pairs = [
        ("User-Name", "anonymous@idp.example.jp"), ("NAS-IP-Address", "192.0.2.10"),
        ("Service-Type", "Framed-User"), ("Framed-MTU", 1400),
        ("Called-Station-Id", "02-00-00-00-01-00:OpenRoaming"), ("Calling-Station-Id", "02-00-00-00-00-01"),
        ("NAS-Identifier", "ap-shinjuku-001"), ("Acct-Session-Id", "5F2A3C4D1E0B9A87"),
        ("NAS-Port-Type", "Wireless-802.11"), ("Connect-Info", "CONNECT 54Mbps 802.11a"),
        ("Chargeable-User-Identity", b"\x00"), ("Operator-Name", "4EXAMPLE:JP"),
        ("WFA-HS20-AP-Version", 1), ("WFA-HS20-STA-Version", b"\x01\x00\x00"),
        ("WFA-HS20-Roaming-Consortium", bytes.fromhex("5a03ba0000")),
        ("WBA-Offered-Service", "OpenRoaming Bronze"), ("EAP-Message", eap),
    ]
    attrs = [a for name, value in pairs for a in encode(d, name, value)]
    packet = Packet(Code.ACCESS_REQUEST, 42, os.urandom(16), tuple(attrs))
    return sign_request(packet, SECRET).to_bytes()


def ours_wire(raw: bytes) -> bytes:
    return Packet.from_bytes(raw).to_bytes()


def ours_full(raw: bytes) -> bytes:
    d = default_dictionary()
    packet = Packet.from_bytes(raw)
    verify_request(packet, SECRET, require_message_authenticator=True)
    values = {a.name: a.value for a in decode_packet(packet, d)}
    assert values["User-Name"] == "anonymous@idp.example.jp"
    return sign_request(packet, SECRET).to_bytes()


def pyrad_functions() -> tuple[Callable[[bytes], bytes], Callable[[bytes], bytes]] | None:
    try:
        from pyrad import dictionary, packet
    except ImportError:
        return None
    pd = dictionary.Dictionary(io.StringIO(PYRAD_DICTIONARY))

    def wire(raw: bytes) -> bytes:
        p = packet.AuthPacket(packet=raw, secret=SECRET, dict=pd)
        return bytes(p.RequestPacket())

    def full(raw: bytes) -> bytes:
        p = packet.AuthPacket(packet=raw, secret=SECRET, dict=pd)
        if not p.verify_message_authenticator():
            raise AssertionError("pyrad: Message-Authenticator does not verify")
        values = {k: p[k] for k in p.keys()}  # noqa: SIM118 (pyrad maps codes to names here)
        assert values["User-Name"] == ["anonymous@idp.example.jp"]
        return bytes(p.RequestPacket())

    return wire, full


def _round(func: Callable[[bytes], bytes], raw: bytes, budget: float) -> float:
    n, start = 0, time.perf_counter()
    while n < 1_000_000:
        for _ in range(100):
            func(raw)
        n += 100
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            break
    return n / elapsed


def rates(funcs: list[Callable[[bytes], bytes]], raw: bytes, seconds: float, rounds: int = 7) -> list[float]:
    """Best operations per second of each function; rounds alternate so load changes hit both alike."""
    for func in funcs:
        func(raw)  # warm up, and fail loudly if it does not work
    best = [0.0] * len(funcs)
    budget = seconds / rounds / len(funcs)
    for _ in range(rounds):
        for i, func in enumerate(funcs):
            best[i] = max(best[i], _round(func, raw, budget))
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="time budget per workload")
    args = parser.parse_args()
    raw = typical_access_request()
    assert ours_wire(raw) == raw and ours_full(raw) == raw
    print(f"packet: Access-Request, {len(raw)} octets, {len(Packet.from_bytes(raw).attributes)} attributes")
    theirs = pyrad_functions()
    pairs = (("wire", ours_wire, theirs and theirs[0]), ("full", ours_full, theirs and theirs[1]))
    for label, mine, other in pairs:
        found = rates([mine, other] if other else [mine], raw, args.seconds)
        line = f"{label:5} tsunagaru {found[0]:10,.0f}/s"
        if other:
            line += f"   pyrad {found[1]:10,.0f}/s   ratio {found[0] / found[1]:5.2f}x"
        else:
            line += "   (pyrad not installed: no comparison)"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
