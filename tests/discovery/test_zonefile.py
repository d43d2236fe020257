"""The zone-file source and the demo zone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import dns.zone
import pytest

from tsunagaru.discovery import (
    InvalidName,
    RealmNotFound,
    Route,
    Service,
    ZoneFileSource,
    demo_zone_text,
)


def test_demo_zone_text_has_the_promised_records() -> None:
    text = demo_zone_text()
    assert 'NAPTR 50 50 "s" "aaa+auth:radius.tls.tcp" "" _radsec._tcp.idp.tsunagaru.test.' in text
    assert 'NAPTR 50 50 "s" "aaa+acct:radius.tls.tcp" "" _radsec._tcp.idp.tsunagaru.test.' in text
    assert "_radsec._tcp IN SRV 0 10 2083 idp.tsunagaru.test." in text
    assert "@ IN A 127.0.0.1" in text
    dns.zone.from_text(text, relativize=False).check_origin()


@pytest.mark.parametrize("service", list(Service))
def test_demo_zone_resolves_from_a_file(tmp_path: Path, service: Service) -> None:
    path = tmp_path / "demo.zone"
    path.write_text(demo_zone_text())
    result = asyncio.run(ZoneFileSource.from_file(path).resolve("idp.tsunagaru.test", service, now=0.0))
    assert isinstance(result, Route) and result.service is service
    [target] = result.targets
    assert (target.host, target.port, target.addresses, target.ttl) == (
        "idp.tsunagaru.test", 2083, ("127.0.0.1",), 300)


def test_other_port_and_ipv6() -> None:
    source = ZoneFileSource.from_text(demo_zone_text("idp.example.org", "::1", 20830))
    result = asyncio.run(source.resolve("idp.example.org"))
    assert isinstance(result, Route)
    assert result.targets[0].port == 20830 and result.targets[0].addresses == ("::1",)


def test_names_outside_or_missing_are_negative_with_the_soa_minimum() -> None:
    source = ZoneFileSource.from_text(demo_zone_text())
    for realm in ("nope.idp.tsunagaru.test", "elsewhere.example"):
        result = asyncio.run(source.resolve(realm))
        assert isinstance(result, RealmNotFound) and result.ttl == 60


def test_demo_zone_text_validates_its_arguments() -> None:
    with pytest.raises(InvalidName):
        demo_zone_text("bad realm")
    with pytest.raises(InvalidName):
        demo_zone_text(port=0)
    with pytest.raises(ValueError):
        demo_zone_text(host="localhost")


def test_hostile_records_in_a_zone_file_are_refused() -> None:
    text = demo_zone_text() + "\n".join([
        "_radsec._tcp IN SRV 0 20 2083 ev\\}il.idp.tsunagaru.test.",
        "_radsec._tcp IN SRV 0 20 2083 evil\\.x.idp.tsunagaru.test.",  # a dot inside a label
        "_radsec._tcp IN SRV 0 20 2083 evil\\010x.idp.tsunagaru.test.",  # a newline inside a label
        "_radsec._tcp IN SRV 0 20 0 idp.tsunagaru.test.",
        "",
    ])
    result = asyncio.run(ZoneFileSource.from_text(text).resolve("idp.tsunagaru.test"))
    assert isinstance(result, Route) and len(result.targets) == 1
    reasons = sorted(line.rsplit(": ", 1)[1] for line in result.refused)
    assert reasons == ["character '\\\\' is not allowed in a host name"] * 2 + [
        "character '}' is not allowed in a host name", "port must be within 1..65535"]
