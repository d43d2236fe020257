"""Each configured nameserver is asked on its own port (review 56: only the first one's port was used)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.discovery.dnsmasq import Dnsmasq, chain
from tsunagaru.anp.config import parse
from tsunagaru.anp.wiring import build_source
from tsunagaru.discovery import Service
from tsunagaru.discovery.model import Route


def test_second_nameserver_on_its_own_port(tmp_path: Path) -> None:
    dns = Dnsmasq(tmp_path)
    dns.start(chain("idp.ns.test", port=2084))
    try:
        cfg = parse(f"""[[clients]]
name = "ap"
network = "127.0.0.1"
secret = "s"
[discovery]
nameservers = ["127.0.0.2:9", "127.0.0.1:{dns.port}"]
timeout = 2
""")
        source = build_source(cfg)
        result = asyncio.run(source.resolve("idp.ns.test", Service.AUTH, 0.0))
    finally:
        dns.stop()
    assert isinstance(result, Route)
    assert [t.port for t in result.targets] == [2084]
