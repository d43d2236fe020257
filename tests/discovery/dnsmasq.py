"""A private dnsmasq on 127.0.0.1:PORT serving only the records a test gives it.

Started from argv (no /etc/dnsmasq.conf, no /etc/hosts, no upstream), pid file and log in the test's
tmp_path, stopped by pid. ``restart`` keeps the port so a resolver pointed at it sees the new records.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from tests.support.procs import free_port, need, stop, wait_udp


def dnsmasq_binary() -> str:
    found = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    need(found)
    return found


class Dnsmasq:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port(socket.SOCK_DGRAM)  # DNS over UDP and TCP: free_port probes both
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def argv(self, records: Sequence[str], ttl: int, auth_zone: str | None) -> list[str]:
        argv = [dnsmasq_binary(), "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={self.port}",
                "--user=root",
                f"--pid-file={self.folder / 'dnsmasq.pid'}", f"--log-facility={self.folder / 'dnsmasq.log'}",
                "--log-queries", f"--local-ttl={ttl}"]
        if auth_zone is None:
            argv.append("--local=/test/")  # names under .test without records: NXDOMAIN, not REFUSED
        else:  # authoritative mode: negative answers carry the zone's SOA (RFC 2308 negative TTL)
            argv += [f"--auth-server=ns.{auth_zone},lo", f"--auth-zone={auth_zone}", f"--auth-ttl={ttl}",
                     f"--auth-soa=1,hostmaster.{auth_zone},1200,120,604800,{ttl}"]
        return argv + list(records)

    def start(self, records: Sequence[str], ttl: int = 300, auth_zone: str | None = None) -> None:
        self.stop()
        self.starts += 1
        out = open(self.folder / f"dnsmasq-{self.starts}.out", "wb")  # noqa: SIM115 - handed to the child
        with out:
            self.proc = subprocess.Popen(self.argv(records, ttl, auth_zone), stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_udp(self.port, timeout=10, proc=self.proc)

    restart = start

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


def naptr(realm: str, replacement: str, service: str = "aaa+auth:radius.tls.tcp", order: int = 50,
          preference: int = 50, flags: str = "s") -> str:
    return f"--naptr-record={realm},{order},{preference},{flags},{service},,{replacement}"


def srv(name: str, target: str, port: int, priority: int = 0, weight: int = 10) -> str:
    return f"--srv-host={name},{target},{port},{priority},{weight}"


def host(name: str, *addresses: str, ttl: int | None = None) -> str:
    return f"--host-record={name},{','.join(addresses)}" + ("" if ttl is None else f",{ttl}")


def chain(realm: str, port: int = 2083, address: str = "127.0.0.1", host_ttl: int | None = None) -> list[str]:
    """The usual records for ``realm``: NAPTR -> _radsec._tcp.REALM SRV -> REALM A."""
    name = f"_radsec._tcp.{realm}"
    return [naptr(realm, name), srv(name, realm, port), host(realm, address, ttl=host_ttl)]
