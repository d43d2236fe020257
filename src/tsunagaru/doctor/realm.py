"""`tsunagaru doctor realm REALM`: is this realm reachable as an OpenRoaming identity provider?

Runs what the ANP would do, one step at a time, and reports each in an operator's words with its
timing: DNS (NAPTR -> SRV -> A/AAAA) -> TCP -> TLS with our ANP certificate -> the peer's chain against
the federation policy -> a Status-Server round trip. A failed step skips the ones that depend on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from tsunagaru.discovery import CachedSource, DiscoveryError, InvalidRealm, RealmNotFound, Route
from tsunagaru.doctor.report import Report, Step, Verdict
from tsunagaru.pki import Trust
from tsunagaru.radius import Code
from tsunagaru.radsec import RadSecClient, RadSecError, client_context, peer_chain


@dataclass(frozen=True, slots=True)
class DoctorSetup:
    source: CachedSource
    certificate: Path
    key: Path
    roots: tuple[Path, ...]
    crls: tuple[Path, ...] = ()
    timeout: float = 5.0


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def _context(setup: DoctorSetup) -> ssl.SSLContext:
    ctx = client_context(certfile=setup.certificate, keyfile=setup.key, cafile=setup.roots[0], check_hostname=False)
    for extra in setup.roots[1:]:
        ctx.load_verify_locations(cafile=str(extra))
    return ctx


async def diagnose(realm: str, setup: DoctorSetup) -> Report:
    report = Report(realm)
    route = await _dns(realm, setup, report)
    if route is None:
        _skip(report, "TCP", "TLS", "federation PKI", "Status-Server")
        return report
    target = route.targets[0]
    host, port, name = target.addresses[0], target.port, target.host
    if not await _tcp(host, port, setup, report):
        _skip(report, "TLS", "federation PKI", "Status-Server")
        return report
    chain = await _tls(host, port, name, setup, report)
    if chain is None:
        _skip(report, "federation PKI", "Status-Server")
        return report
    if not _policy(chain, name, setup, report):
        _skip(report, "Status-Server")
        return report
    await _status(host, port, name, setup, report)
    return report


def _skip(report: Report, *names: str) -> None:
    for name in names:
        report.add(Step(name, Verdict.SKIP, "not tried (an earlier step failed)"))


async def _dns(realm: str, setup: DoctorSetup, report: Report) -> Route | None:
    start = time.perf_counter()
    try:
        result = await asyncio.wait_for(setup.source.resolve(realm, now=time.monotonic()), setup.timeout)
    except InvalidRealm as exc:
        report.add(Step("DNS", Verdict.FAIL, f"{realm!r} is not a valid realm: {exc.reason}", _ms(start)))
        return None
    except (DiscoveryError, TimeoutError) as exc:
        details = tuple(getattr(exc, "explain", ()))
        report.add(Step("DNS", Verdict.FAIL, f"DNS did not answer: {exc}", _ms(start), details))
        return None
    if isinstance(result, RealmNotFound):
        report.add(Step("DNS", Verdict.FAIL, f"no RadSec route for {realm}: {result.reason}", _ms(start),
                        result.explain))
        return None
    first = result.targets[0]
    summary = (f"{len(result.targets)} target(s); first {first.host}:{first.port} "
               f"[{', '.join(first.addresses)}]")
    report.add(Step("DNS", Verdict.PASS, summary, _ms(start), result.explain))
    return result


async def _tcp(host: str, port: int, setup: DoctorSetup, report: Report) -> bool:
    start = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), setup.timeout)
    except (OSError, TimeoutError) as exc:
        report.add(Step("TCP", Verdict.FAIL, f"cannot connect to {host}:{port}: {exc or 'timed out'}", _ms(start)))
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    report.add(Step("TCP", Verdict.PASS, f"connected to {host}:{port}", _ms(start)))
    return True


async def _tls(host: str, port: int, name: str, setup: DoctorSetup, report: Report) -> list[bytes] | None:
    start = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=_context(setup), server_hostname=name), setup.timeout)
    except (OSError, ssl.SSLError, TimeoutError) as exc:
        report.add(Step("TLS", Verdict.FAIL, f"TLS handshake with our ANP certificate failed: {exc}", _ms(start),
                        ("the peer may not trust our federation root, or we do not trust its chain",)))
        return None
    sslobj = writer.get_extra_info("ssl_object")
    chain = peer_chain(sslobj)
    detail = (f"version {sslobj.version()}, cipher {sslobj.cipher()[0]}, "
              f"ALPN {sslobj.selected_alpn_protocol() or 'not negotiated'}")
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await asyncio.wait_for(writer.wait_closed(), 2.0)
    report.add(Step("TLS", Verdict.PASS, f"mutual TLS handshake done ({detail})", _ms(start)))
    return chain


def _policy(chain: list[bytes], name: str, setup: DoctorSetup, report: Report) -> bool:
    start = time.perf_counter()
    trust = Trust.from_files(list(setup.roots), crls=list(setup.crls))
    result = trust.check(chain, direction="server", now=datetime.now(UTC), expected_names=[name])
    who = ""
    if result.peer is not None:
        who = f" (WBAID {result.peer.wbaid or '-'}, names {', '.join(result.peer.dns_names) or '-'})"
    verdict = Verdict.PASS if result.ok else Verdict.FAIL
    report.add(Step("federation PKI", verdict, result.message + who, _ms(start), tuple(result.steps)))
    return result.ok


async def _status(host: str, port: int, name: str, setup: DoctorSetup, report: Report) -> None:
    start = time.perf_counter()
    client = None
    try:
        client = await RadSecClient.connect(host, port, _context(setup), server_name=name, watchdog=None,
                                            connect_timeout=setup.timeout)
        reply = await client.status(timeout=setup.timeout)
    except (RadSecError, OSError, TimeoutError) as exc:
        report.add(Step("Status-Server", Verdict.FAIL, f"no answer to Status-Server: {exc}", _ms(start)))
        return
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()
    ok = reply.code in (Code.ACCESS_ACCEPT, Code.ACCOUNTING_RESPONSE)
    report.add(Step("Status-Server", Verdict.PASS if ok else Verdict.FAIL,
                    f"answered with code {reply.code} ({'alive' if ok else 'unexpected'})", _ms(start)))
