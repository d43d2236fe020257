"""atheris fuzz target for the zone-file reader (`make fuzz-zone`; a short run is in the tests).

The property: any octets as a zone file end in a :class:`ZoneFileSource` or one :class:`ZoneFileError`;
a zone that loads answers RFC 7585 discovery for a realm in it with a result (found, not found, or a
typed discovery error), never an exception from dnspython or from our record readers. Seeds: the demo
zone for IPv4 and IPv6 (``fuzz/corpus-zone``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from tsunagaru.discovery import DiscoveryError, InvalidRealm, Service, ZoneFileError, ZoneFileSource

SEEDS = Path(__file__).with_name("corpus-zone")
REALMS = ("idp.tsunagaru.test", "r.example")


def test_one_input(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    try:
        source = ZoneFileSource.from_text(text)
    except ZoneFileError:
        return
    origin = source.zone.origin.to_text(omit_final_dot=True) if source.zone.origin is not None else None
    for realm in (*REALMS, *([origin] if origin else [])):
        for service in (Service.AUTH, Service.ACCT):
            with contextlib.suppress(DiscoveryError, InvalidRealm):  # typed: the ANP maps them to a Reject-Reason
                asyncio.run(source.resolve(realm, service))


def main() -> None:
    from seeds import argv_with_seeds

    atheris.Setup(argv_with_seeds(sys.argv, SEEDS), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
