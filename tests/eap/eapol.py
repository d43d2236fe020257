"""Run the EAP front in a thread and eapol_test (the real wpa_supplicant EAP client) against it."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tsunagaru.idp.eap_front import EapRadiusHandler, serve_udp

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


@contextlib.contextmanager
def front(handler: EapRadiusHandler, port: int) -> Iterator[EapRadiusHandler]:
    """Serve ``handler`` on 127.0.0.1:``port`` from a private event loop thread."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, asyncio.DatagramTransport] = {}

    async def main() -> None:
        box["t"] = await serve_udp(handler, "127.0.0.1", port)
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


async def _close(transport: asyncio.DatagramTransport) -> None:
    transport.close()
    await asyncio.sleep(0)  # let connection_lost run and the socket close before the loop stops


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
