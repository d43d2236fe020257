"""RadSec round trips per second and CPU per request: our client -> our server, our client -> FreeRADIUS.

Not a test: run ``.venv/bin/python bench/radsec_roundtrip.py [--requests 20000] [--inflight 64]``.
Every run is bounded by a request count and a wall-clock cap per target. Both servers run as separate
processes on 127.0.0.1 with the same throw-away PKI (EC P-256), PAP user alice/password, and TLS
session caching off; our client runs in this process. CPU is utime+stime: ``time.process_time`` for
the client, ``/proc/PID/stat`` (all threads) for the servers, including a short tail after the load
because FreeRADIUS frees each request ``cleanup_delay`` after answering it. Prints a table and writes
JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support holds the PKI and FreeRADIUS helpers
sys.path.insert(0, str(ROOT / "src"))

from tests.support.radsec_certs import SERVER_NAME, PkiPaths, make_pki  # noqa: E402
from tests.support.radsec_peers import freeradius_tls_idp  # noqa: E402
from tsunagaru.radius import Code, Packet  # noqa: E402
from tsunagaru.radius.hiding import hide_user_password, reveal_user_password  # noqa: E402
from tsunagaru.radius.packet import USER_NAME, USER_PASSWORD  # noqa: E402
from tsunagaru.radsec import PeerInfo, RadSecClient, RadSecServer, client_context, server_context  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def wait_idle(pid: int, *, min_s: float, max_s: float) -> None:
    """Keep counting a server's CPU until it has been idle for a moment (bounded by ``max_s``)."""
    start = time.monotonic()
    last = proc_cpu(pid)
    while time.monotonic() - start < max_s:
        time.sleep(0.5)
        now = proc_cpu(pid)
        if now == last and time.monotonic() - start >= min_s:
            return
        last = now


def pap_request() -> Packet:
    auth = os.urandom(16)
    return Packet(
        Code.ACCESS_REQUEST,
        0,
        auth,
        ((USER_NAME, b"alice"), (USER_PASSWORD, hide_user_password(b"password", b"radsec", auth))),
    )


# -- our server, run as a child process: ``radsec_roundtrip.py --serve CERTDIR`` ----------------------


def check(request: Packet) -> Packet:
    hidden = request.get(USER_PASSWORD) or b""
    ok = (
        request.get(USER_NAME) == b"alice"
        and reveal_user_password(hidden, b"radsec", request.authenticator) == b"password"
    )
    return Packet(Code.ACCESS_ACCEPT if ok else Code.ACCESS_REJECT, 0)


async def serve(pki: PkiPaths, style: str) -> None:
    """``sync``: the handler answers at once (as the IdP does for every step that needs no password
    hash); ``async``: a coroutine per request (a task each), as a handler that must wait does."""

    async def later(request: Packet, peer: PeerInfo) -> Packet | None:
        return check(request)

    def now(request: Packet, peer: PeerInfo) -> Packet | None:
        return check(request)

    handler = now if style == "sync" else later

    ctx = server_context(certfile=pki.server_cert, keyfile=pki.server_key, cafile=pki.ca)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    async with RadSecServer(handler, ctx) as server:
        print(await server.start(), flush=True)
        await stop.wait()


def pki_from(folder: Path) -> PkiPaths:
    return PkiPaths(
        folder / "ca.pem",
        folder / "server.pem",
        folder / "server.key",
        folder / "client.pem",
        folder / "client.key",
    )


# -- the load ------------------------------------------------------------------------------------------


async def drive(port: int, ctx: ssl.SSLContext, n: int, inflight: int, cap_s: float) -> dict[str, Any]:
    client = await RadSecClient.connect("127.0.0.1", port, ctx, server_name=SERVER_NAME, request_timeout=10.0)
    await asyncio.gather(*(client.request(pap_request()) for _ in range(min(200, n))))  # warm-up
    latencies: list[float] = []
    errors = 0
    issued = 0
    deadline = time.perf_counter() + cap_s

    async def worker() -> None:
        nonlocal issued, errors
        while issued < n and time.perf_counter() < deadline:
            issued += 1
            t = time.perf_counter()
            try:
                reply = await client.request(pap_request())
                if reply.code != Code.ACCESS_ACCEPT:
                    errors += 1
            except Exception:
                errors += 1
            latencies.append(time.perf_counter() - t)

    t0, c0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(inflight)))
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peer = client.peer
    await client.aclose(timeout=0.5)
    latencies.sort()
    done = len(latencies)
    return {
        "requests": done,
        "errors": errors,
        "wall_s": round(wall, 3),
        "rate_per_s": round(done / wall, 1),
        "lat_mean_ms": round(statistics.fmean(latencies) * 1000, 3),
        "lat_p50_ms": round(latencies[done // 2] * 1000, 3),
        "lat_p99_ms": round(latencies[min(done - 1, done * 99 // 100)] * 1000, 3),
        "client_cpu_us_per_req": round(cpu / done * 1e6, 1),
        "tls": peer.tls_version if peer else None,
        "alpn": peer.alpn if peer else None,
    }


def measure(name: str, pid: int, port: int, ctx: ssl.SSLContext, args: argparse.Namespace) -> dict[str, Any]:
    wait_idle(pid, min_s=1.0, max_s=8.0)
    cpu0 = proc_cpu(pid)
    result = asyncio.run(drive(port, ctx, args.requests, args.inflight, args.cap))
    wait_idle(pid, min_s=args.tail, max_s=args.tail + 5.0)
    result["server_cpu_us_per_req"] = round(
        (proc_cpu(pid) - cpu0) / (result["requests"] + min(200, args.requests)) * 1e6, 1
    )
    result["target"] = name
    return result


def run_ours(pki: PkiPaths, folder: Path, ctx: ssl.SSLContext, args: argparse.Namespace,
             style: str = "sync") -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--serve", str(folder), "--handler", style]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            port = int(proc.stdout.readline())
            return measure(f"tsunagaru RadSecServer ({style})", proc.pid, port, ctx, args)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


def run_freeradius(
    pki: PkiPaths, folder: Path, ctx: ssl.SSLContext, args: argparse.Namespace
) -> dict[str, Any]:
    with freeradius_tls_idp(
        folder, pki, users={"alice": "password"}, tls_max=args.freeradius_tls_max
    ) as ports:
        return measure("FreeRADIUS 3.2 (TLS listener)", ports.pid, ports.radsec, ctx, args)


def table(results: list[dict[str, Any]]) -> str:
    cols = [
        ("target", 30),
        ("tls", 8),
        ("requests", 9),
        ("errors", 7),
        ("rate_per_s", 11),
        ("lat_p50_ms", 11),
        ("lat_p99_ms", 11),
        ("client_cpu_us_per_req", 22),
        ("server_cpu_us_per_req", 22),
    ]
    lines = ["".join(f"{c:>{w}}" if i else f"{c:<{w}}" for i, (c, w) in enumerate(cols))]
    for r in results:
        lines.append("".join(f"{r[c]!s:>{w}}" if i else f"{r[c]!s:<{w}}" for i, (c, w) in enumerate(cols)))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--cap", type=float, default=60.0, help="wall-clock cap per target, seconds")
    parser.add_argument(
        "--tail", type=float, default=6.0, help="seconds of server CPU counted after the load"
    )
    parser.add_argument("--freeradius-tls-max", default="1.3")
    parser.add_argument("--handler", choices=("sync", "async", "both"), default="both",
                        help="our server's handler: answers at once, a coroutine per request, or both")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(pki_from(args.serve), args.handler))
        return 0
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="radsec-bench-") as tmp:
        folder = Path(tmp)
        pki = make_pki(folder / "pki")
        ctx = client_context(certfile=pki.client_cert, keyfile=pki.client_key, cafile=pki.ca)
        styles = ("sync", "async") if args.handler == "both" else (args.handler,)
        for style in styles:
            results.append(run_ours(pki, folder / "pki", ctx, args, style))
        results.append(run_freeradius(pki, folder, ctx, args))
    print(table(results))
    out = ROOT / "bench" / "results" / f"radsec_roundtrip-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "cpus": os.cpu_count(),
        "requests": args.requests,
        "inflight": args.inflight,
        "cap_s": args.cap,
    }
    out.write_text(json.dumps({"env": env, "results": results}, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
