"""Run the EAP handler behind the production UDP front in a thread, and eapol_test (the real
wpa_supplicant EAP client) against it."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from tsunagaru.eap.session import SessionOutcome
from tsunagaru.idp.eap_front import EapRadiusHandler, Finished, FrontConfig
from tsunagaru.net.front import UdpFront

SECRET = b"testing123"


@dataclass
class Run:
    rc: int
    log: str

    @property
    def success(self) -> bool:
        """Exit 0, SUCCESS, and every Access-Accept's MPPE keys matched the MSK eapol_test derived."""
        found = re.search(r"MPPE keys OK: (\d+)  mismatch: (\d+)", self.log)
        keys_ok = found is not None and int(found[1]) > 0 and int(found[2]) == 0
        return self.rc == 0 and "SUCCESS" in self.log and keys_ok


class Recorded(EapRadiusHandler):
    """The production handler with the outcomes it reports kept for assertions (the product keeps none)."""

    def __init__(self, config: FrontConfig) -> None:
        self.outcomes: list[SessionOutcome] = []
        super().__init__(replace(config, on_outcome=self._record))

    def _record(self, done: Finished) -> None:
        self.outcomes.append(done.outcome)


@contextlib.contextmanager
def front(handler: Recorded, port: int) -> Iterator[Recorded]:
    """Serve ``handler`` on 127.0.0.1:``port`` behind :class:`UdpFront`, from a private event loop thread."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, UdpFront] = {}

    async def main() -> None:
        udp = UdpFront(lambda packet, _addr: handler.handle(packet, loop.time()),
                       [ipaddress.ip_network("127.0.0.0/8")])
        await udp.bind("127.0.0.1", port)
        box["t"] = udp
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(main(), loop).result(10)
    ready.wait(10)
    try:
        yield handler
    finally:
        asyncio.run_coroutine_threadsafe(_close(box["t"]), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


async def _close(udp: UdpFront) -> None:
    await udp.drain(1.0)
    udp.close()


def eapol_test(
    folder: Path, port: int, network: str, *, name: str = "run", timeout: int = 8, extra: Sequence[str] = ()
) -> Run:
    """Write a network block and run ``eapol_test`` once; returns its exit code and log."""
    conf = folder / f"{name}.conf"
    conf.write_text("network={\n" + network + "\n}\n")
    argv = [
        "eapol_test",
        "-c",
        str(conf),
        "-a",
        "127.0.0.1",
        "-p",
        str(port),
        "-s",
        SECRET.decode(),
        "-t",
        str(timeout),
        *extra,
    ]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 10)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout if isinstance(exc.stdout, str) else ""
        return Run(-1, out)
    (folder / f"{name}.log").write_text(proc.stdout + proc.stderr)
    return Run(proc.returncode, proc.stdout + proc.stderr)
