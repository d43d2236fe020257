"""atheris fuzz target for the zone-file reader (`make fuzz-zone`; a short run is in the tests).

The property: any octets as a zone file end in a :class:`ZoneFileSource` or one :class:`ZoneFileError`;
a zone that loads answers RFC 7585 discovery for a realm in it with a result (found, not found, or a
typed discovery error), never an exception from dnspython or from our record readers. Seeds: the demo
zone for IPv4 and IPv6 (``fuzz/corpus-zone``).

Speed (about 110 exec/s before): the harness works in memory on the entry points the ANP uses
(``ZoneFileSource.from_text``, then ``resolve``), but drives ``resolve`` by hand instead of one
``asyncio.run`` per lookup (a new event loop each time, six times a run): a zone in memory never waits,
so the coroutine finishes on its first step; one that does wait is itself a failure here. atheris no
longer traces dnspython's tokenizer and name codec (see the import). Inputs are bounded at 2,048 octets
(``-max_len``; some 40 records, room for every directive and record form): a longer file only repeats
lines, at a cost that grows with its length.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import atheris

# dnspython is traced (its zone and record readers are where escapes came from) except its character-level
# tokenizer and name codec: tracing those cost three quarters of each run and guides little
with atheris.instrument_imports(include=["tsunagaru", "dns"], exclude=["dns.tokenizer", "dns.name"]):
    from tsunagaru.discovery import DiscoveryError, InvalidRealm, Service, ZoneFileError, ZoneFileSource

SEEDS = Path(__file__).with_name("corpus-zone")
REALMS = ("idp.tsunagaru.test", "r.example")
MAX_LEN = 2048


def complete(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine that never waits (the zone is in memory) to its result, without an event loop."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise AssertionError("ZoneFileSource.resolve waited on something: a zone in memory must not")


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
                complete(source.resolve(realm, service))


def main() -> None:
    from seeds import argv_with_seeds

    atheris.Setup(argv_with_seeds(sys.argv, SEEDS, MAX_LEN), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
