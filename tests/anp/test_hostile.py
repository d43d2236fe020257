"""A running ANP under hostile input: 5,000 spoofed sources, 1,000 realms whose SRV records (a real dnsmasq)
point at a black hole, SIGTERM with requests in flight to a slow upstream we control. Figures measured:
metric series in the scrape, pool peers, asyncio tasks, connection attempts, RSS."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import threading
import time
from pathlib import Path

from tests.discovery.dnsmasq import Dnsmasq, host, naptr, srv
from tests.support.anp_stack import anp_ports, anp_toml, make_state, pap_request, run_anp
from tests.support.procs import free_port
from tsunagaru.anp.cli import run
from tsunagaru.anp.config import parse
from tsunagaru.anp.metrics import DROP_KINDS
from tsunagaru.anp.server import AnpServer
from tsunagaru.radius import Code, Packet
from tsunagaru.radsec import RadSecServer, server_context


def test_five_thousand_spoofed_sources_leave_the_series_bounded(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    ports = anp_ports()
    text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite").replace('"127.0.0.0/8"', '"127.0.0.1/32"')
    request = pap_request("alice@idp.tsunagaru.test", "alice-password").to_bytes()
    with run_anp(tmp_path / "anp", text, ports) as anp:
        before = len(anp.metrics())
        for i in range(5000):  # every source a different loopback address: what a spoofer sends
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.bind((f"127.{1 + i // 65025}.{(i // 255) % 255}.{1 + i % 255}", 0))
                s.sendto(request, ("127.0.0.1", anp.auth))
            if i % 100 == 99:
                time.sleep(0.01)  # paced: the kernel drops a burst beyond the socket buffer
        samples: dict[str, float] = {}
        last = -1.0
        for _ in range(100):  # bounded wait until the count stops moving (the last datagram is counted)
            samples = anp.metrics()
            seen = samples.get('tsunagaru_anp_dropped_total{why="unknown_client"}', 0)
            if seen >= 5000 or seen == last:
                break
            last = seen
            time.sleep(0.3)
    dropped = [k for k in samples if k.startswith("tsunagaru_anp_dropped_total")]
    # a busy machine loses some datagrams in the kernel; thousands of sources still reached the ANP
    assert samples['tsunagaru_anp_dropped_total{why="unknown_client"}'] >= 4000
    assert len(dropped) <= len(DROP_KINDS)
    assert len(samples) - before <= 5, f"{len(samples) - before} new series from 5,000 sources"


def _blackhole() -> tuple[socket.socket, int]:
    """A TCP port that takes connections into its backlog and never accepts or answers: a black hole
    for TLS (the handshake never completes; SYNs beyond the backlog are dropped)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, int(s.getsockname()[1])


def _rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_a_thousand_black_holed_realms_leave_memory_tasks_and_attempts_bounded(tmp_path: Path) -> None:
    hole, port = _blackhole()
    dns = Dnsmasq(tmp_path)
    records: list[str] = []
    for i in range(1000):
        realm = f"r{i}.hole.test"
        records += [naptr(realm, f"_radsec._tcp.{realm}"), srv(f"_radsec._tcp.{realm}", f"t{i}.hole.test", port),
                    host(f"t{i}.hole.test", "127.0.0.1")]
    dns.start(records, ttl=300)
    state = make_state(tmp_path / "state")
    ports = anp_ports()
    text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite", nameserver=dns.port, request_timeout=1.0,
                    client_options="rate = 100000\nburst = 100000")
    text = text.replace("[anp]\n", "[anp]\nmax_peers = 300\npeer_idle_timeout = 3\npeer_give_up = 2\n")
    cfg = parse(text)
    figures: dict[str, float] = {}

    async def main() -> None:
        ready, stop = asyncio.Event(), asyncio.Event()
        holder: list[AnpServer] = []
        runner = asyncio.create_task(run(cfg, ready=ready, stop=stop, on_server=holder.append))
        await asyncio.wait_for(ready.wait(), 30)
        server = holder[0]
        pool = server.transport.pool  # type: ignore[attr-defined]
        tasks_before, rss_before = len(asyncio.all_tasks()), _rss_kib()

        def client() -> tuple[int, int]:
            """Send one Access-Request per realm and retransmit the unanswered ones (the same octets, at most
            three times, as a NAS does): on a loaded machine the kernel drops datagrams when a process is
            starved, and the property is that the ANP answers every realm, not that UDP never loses one.
            Four sockets, so that (socket, identifier) names one realm. Returns (answered, retransmitted)."""
            socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
            packets = {(i // 250, i % 250): pap_request(f"u@r{i}.hole.test", "pw", i % 250).to_bytes()
                       for i in range(1000)}
            answered: set[tuple[int, int]] = set()
            last = [time.monotonic()]  # of the last send or reply
            done = threading.Event()

            def read(k: int, s: socket.socket) -> None:  # read while sending: an unread buffer drops replies
                while not done.is_set():
                    try:
                        answered.add((k, s.recv(4096)[1]))
                        last[0] = time.monotonic()
                    except TimeoutError:
                        pass

            def send(keys: list[tuple[int, int]]) -> None:
                for n, key in enumerate(keys):
                    socks[key[0]].sendto(packets[key], ("127.0.0.1", ports.auth))
                    last[0] = max(last[0], time.monotonic())
                    if n % 20 == 19:
                        time.sleep(0.05)  # ~400 requests/s

            for s in socks:
                s.settimeout(0.2)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                s.bind(("127.0.0.1", 0))
            readers = [threading.Thread(target=read, args=(k, s)) for k, s in enumerate(socks)]
            for reader in readers:
                reader.start()
            retransmitted = 0
            cap = time.monotonic() + 240
            try:
                send(list(packets))
                for _ in range(4):  # wait for the replies: until all are in or none came for 15 s (capped)
                    while len(answered) < 1000 and time.monotonic() < min(cap, last[0] + 15):
                        time.sleep(0.1)
                    missing = [key for key in packets if key not in answered]
                    if not missing or time.monotonic() >= cap or _ == 3:
                        break
                    retransmitted += len(missing)
                    send(missing)
            finally:
                done.set()
                for reader in readers:
                    reader.join()
                for s in socks:
                    s.close()
            return len(answered), retransmitted

        peaks = {"peers": 0, "tasks": 0}

        async def sample() -> None:
            while True:
                peaks["peers"] = max(peaks["peers"], pool.peers)
                peaks["tasks"] = max(peaks["tasks"], len(asyncio.all_tasks()) - tasks_before)
                await asyncio.sleep(0.02)

        sampler = asyncio.create_task(sample())
        answered, retransmitted = await asyncio.to_thread(client)
        sampler.cancel()
        figures.update(answered=answered, retransmitted=retransmitted, peers_peak=peaks["peers"],
                       attempts=pool.connect_attempts, tasks_peak=peaks["tasks"])
        # give-up (2 s) and idle expiry (3 s) empty the pool and end its tasks; waited for as a condition,
        # capped at 60 s (a loaded machine runs those timers late)
        deadline = time.monotonic() + 60
        while (pool.peers or len(asyncio.all_tasks()) - tasks_before > 5) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        figures.update(peers_after=pool.peers, tasks_after=len(asyncio.all_tasks()) - tasks_before,
                       rss_growth_kib=_rss_kib() - rss_before, given_up=pool.given_up + pool.expired)
        samples = {m.name: len(m.samples) for m in server.metrics.registry.collect()}
        figures.update(peer_up_series=samples.get("tsunagaru_anp_peer_up", 0))
        stop.set()
        assert await runner == 0

    try:
        asyncio.run(main())
    finally:
        dns.stop()
        hole.close()
    print("black-holed realms:", figures)
    assert figures["answered"] >= 990  # every realm got its Access-Reject (after retransmissions; UDP)
    assert figures["peers_peak"] <= 300 and figures["peers_after"] == 0
    assert figures["attempts"] <= 1000 + 300  # no reconnecting for ever: at most a few per peer kept
    assert figures["tasks_after"] <= 5
    assert figures["tasks_peak"] <= 2 * 1000 + 300  # a request task (+ its DNS lookup) each
    assert figures["peer_up_series"] <= 300
    assert figures["rss_growth_kib"] < 64 * 1024


def _slow_upstream(state_root: Path, delay: float, seen: list[int]) -> RadSecServer:
    ctx = server_context(certfile=state_root / "idp-radsec.pem", keyfile=state_root / "idp-radsec.key",
                         cafile=state_root / "federation-roots.pem")

    async def handler(request: Packet, peer: object) -> Packet:
        seen.append(request.identifier)
        await asyncio.sleep(delay)
        return Packet(Code.ACCESS_ACCEPT, 0)

    return RadSecServer(handler, ctx)


def test_sigterm_answers_the_requests_in_flight_then_exits_0(tmp_path: Path) -> None:
    """Five UDP requests and one from a RadSec AP wait at a slow upstream (2 s) when SIGTERM comes: all six
    are answered, then the ANP exits 0."""
    from tsunagaru.radius.hiding import hide_user_password
    from tsunagaru.radsec import RadSecClient, client_context

    state = make_state(tmp_path / "state")
    ports = anp_ports()
    seen: list[int] = []
    upstream_port = free_port(socket.SOCK_STREAM)
    ap_port = free_port(socket.SOCK_STREAM)
    loop = asyncio.new_event_loop()
    upstream = _slow_upstream(state.root, 2.0, seen)
    loop.run_until_complete(upstream.start("127.0.0.1", upstream_port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                    routes=[("idp.tsunagaru.test", [f"127.0.0.1:{upstream_port}/idp.tsunagaru.test"])])
    text = text.replace("[anp]\n", f'[anp]\nlisten_radsec = "127.0.0.1:{ap_port}"\n', 1).replace(
        "[tls]\n", f'[tls]\nap_roots = ["{state.path("ap-ca/root.pem")}"]\n', 1)

    async def ap_request() -> int:
        ctx = client_context(certfile=state.path("ap.pem"), keyfile=state.path("ap.key"),
                             cafile=state.path("federation-roots.pem"), check_hostname=False)
        client = await RadSecClient.connect("127.0.0.1", ap_port, ctx, watchdog=None)
        auth = os.urandom(16)
        attrs = ((1, b"alice@idp.tsunagaru.test"), (2, hide_user_password(b"pw", b"radsec", auth)))
        reply = await client.request(Packet(Code.ACCESS_REQUEST, 0, auth, attrs), timeout=10)
        await client.aclose()
        return reply.code

    replies: list[int] = []
    try:
        with run_anp(tmp_path / "anp", text, ports) as anp:
            socks = []
            for i in range(5):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.settimeout(8)
                s.sendto(pap_request("alice@idp.tsunagaru.test", "pw", i).to_bytes(), ("127.0.0.1", anp.auth))
                socks.append(s)
            over_radsec = asyncio.run_coroutine_threadsafe(ap_request(), loop)
            for _ in range(100):
                if len(seen) >= 6:
                    break
                time.sleep(0.05)
            assert len(seen) == 6  # all six are at the (slow) upstream
            os.kill(anp.pid, signal.SIGTERM)
            started = time.monotonic()
            for s in socks:
                replies.append(Packet.from_bytes(s.recv(4096)).code)
                s.close()
            replies.append(over_radsec.result(10))
            status = _wait_exit(anp.pid, 10)
            elapsed = time.monotonic() - started
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
    assert replies == [Code.ACCESS_ACCEPT] * 6
    assert status == 0 and elapsed < 7


def _wait_exit(pid: int, timeout: float) -> int | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return None
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    return None





def _upstream(state_root: Path, cert: str, handler: object) -> tuple[asyncio.AbstractEventLoop, threading.Thread, int]:
    """Our RadSec server in a thread of its own, presenting ``cert`` (a federation member's)."""
    ctx = server_context(certfile=state_root / f"{cert}.pem", keyfile=state_root / f"{cert}.key",
                         cafile=state_root / "federation-roots.pem")
    port = free_port(socket.SOCK_STREAM)
    loop = asyncio.new_event_loop()
    server = RadSecServer(handler, ctx)  # type: ignore[arg-type]
    loop.run_until_complete(server.start("127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    return loop, thread, port


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def test_another_federation_member_is_not_a_statically_routed_idp(tmp_path: Path) -> None:
    """Review 2: another member's certificate is a valid federation server certificate, but not the one
    the route names: the ANP must refuse it (Reject-Reason 21), not accept any member."""
    from datetime import UTC, datetime

    from tsunagaru.pki import FederationPKI

    state = make_state(tmp_path / "state")
    FederationPKI.load(state.path("federation")).issue_member(
        "other.tsunagaru.test", "OTHER:JP", "idp", now=datetime.now(UTC), out_prefix=state.path("other"))
    answered: list[int] = []

    async def accept(request: Packet, peer: object) -> Packet:
        answered.append(request.identifier)
        return Packet(Code.ACCESS_ACCEPT, 0)

    loop, thread, port = _upstream(state.root, "other", accept)
    ports = anp_ports()
    text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                    routes=[("idp.tsunagaru.test", [f"127.0.0.1:{port}/idp.tsunagaru.test"])])
    try:
        with run_anp(tmp_path / "anp", text, ports) as anp:
            from tests.support.anp_stack import exchange

            reply, _ = exchange(anp.auth, pap_request("alice@idp.tsunagaru.test", "pw"))
            log = anp.log.read_text()
    finally:
        _stop(loop, thread)
    assert reply is not None and reply.code == Code.ACCESS_REJECT and not answered
    assert b"Reject-Reason=21" in (reply.get(18) or b"")
    assert "NAME_MISMATCH" in log


def test_a_malformed_idp_reply_is_reject_21_with_a_log_line(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")

    async def bad_salt(request: Packet, peer: object) -> Packet:
        vsa = (311).to_bytes(4, "big") + bytes((16, 20)) + b"\x00\x01" + bytes(16)  # MPPE key, salt without MSB
        return Packet(Code.ACCESS_ACCEPT, 0, attributes=((26, vsa),))

    loop, thread, port = _upstream(state.root, "idp-radsec", bad_salt)
    ports = anp_ports()
    text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                    routes=[("idp.tsunagaru.test", [f"127.0.0.1:{port}/idp.tsunagaru.test"])])
    try:
        with run_anp(tmp_path / "anp", text, ports) as anp:
            from tests.support.anp_stack import exchange

            reply, _ = exchange(anp.auth, pap_request("alice@idp.tsunagaru.test", "pw"))
            for _ in range(50):
                log = anp.log.read_text()
                if "malformed reply" in log:
                    break
                time.sleep(0.1)
    finally:
        _stop(loop, thread)
    assert reply is not None and reply.code == Code.ACCESS_REJECT
    assert b"Reject-Reason=21" in (reply.get(18) or b"") and b"127.0.0.1" not in (reply.get(18) or b"")
    assert "malformed reply from the identity provider" in log and "Traceback" not in log
