"""Load a configuration into the real wpa_supplicant and read it back over its control interface.

``wpa_supplicant -D none -i lo`` parses the file the way it does on a device (the ``none`` driver
touches no interface) and exits with "Failed to read or parse configuration" on any error, a single
bad cred field included; once it runs, ``wpa_cli get_cred``/``get_network`` show what it understood.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.passpoint.profiles.conftest import required
from tests.support.procs import running


class ConfigRefused(AssertionError):
    """wpa_supplicant did not load the configuration."""


@dataclass(frozen=True)
class Loaded:
    sockets: Path
    log: Path

    def cli(self, *args: str) -> str:
        done = subprocess.run([required("wpa_cli"), "-p", str(self.sockets), "-i", "lo", *args],
                              capture_output=True, text=True, timeout=10, check=False)
        return done.stdout.strip()


@contextlib.contextmanager
def loaded(folder: Path, body: str) -> Iterator[Loaded]:
    """Run wpa_supplicant on ``body`` (the config without ctrl_interface) until the block ends."""
    sockets = Path(tempfile.mkdtemp(prefix="tsgp-", dir="/tmp"))
    conf = folder / "wpa_supplicant.conf"
    conf.write_text(f"ctrl_interface={sockets}\n{body}")
    log = folder / "wpas.log"
    argv = [required("wpa_supplicant"), "-D", "none", "-i", "lo", "-c", str(conf), "-dd"]
    try:
        with running(argv, log) as proc:
            deadline = time.monotonic() + 10
            while not (sockets / "lo").exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise ConfigRefused(log.read_text(errors="replace")[-3000:])
                time.sleep(0.05)
            yield Loaded(sockets, log)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)  # wpa_supplicant removes it itself on a clean exit
