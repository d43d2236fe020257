"""`tsunagaru demo` as a test starts it: every port moved to a free one of the right kind (a UDP listener
gets a UDP-probed port, a TCP listener a TCP-probed one), so that tests never use the default ports."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from tests.support.procs import free_port

UDP_FLAGS = ("auth", "acct", "idp-udp")  # RADIUS/UDP listeners
TCP_FLAGS = ("radsec", "anp-radsec", "anp-metrics", "idp-metrics", "web")  # RadSec, HTTP listeners


def demo_ports() -> dict[str, int]:
    """Flag name (``auth``, ``web``...) -> a port free right now for that listener's protocol."""
    ports = {flag: free_port(socket.SOCK_DGRAM) for flag in UDP_FLAGS}
    ports.update({flag: free_port(socket.SOCK_STREAM) for flag in TCP_FLAGS})
    return ports


def demo_argv(state: Path, ports: dict[str, int], *extra: str) -> list[str]:
    """The command line of a demo with its state in ``state`` and its listeners on ``ports``."""
    argv = [sys.executable, "-m", "tsunagaru", "demo", "--state", str(state)]
    for flag, port in ports.items():
        argv += [f"--{flag}-port", str(port)]
    return [*argv, *extra]
