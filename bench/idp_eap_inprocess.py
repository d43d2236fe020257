"""Our IdP's CPU per EAP-TLS handshake, in-process and split per round trip (not a test, not a comparison).

`idp_eap.py` measures the real server under the shared harness, side by side with FreeRADIUS; its
figures swing by +-20 % on a shared machine. This driver removes the sockets and the other processes:
a pyOpenSSL client (TLS 1.2, the bench PKI's client certificate) talks to the IdP core
(``IdpCore.decide``, its EAP steps run inline) through signed RADIUS packets, ``--concurrent`` conversations interleaved
as 64 eapol_test processes would, and only the server side's thread CPU is counted. It reports the
best of ``--repeat`` runs, OpenSSL's ``do_handshake`` share, and the cost of each of the five round
trips, so a change to the Python plumbing can be judged to a few microseconds.

    .venv/bin/python bench/idp_eap_inprocess.py                    # PKI and user made under a temp folder
    .venv/bin/python bench/idp_eap_inprocess.py --profile 3        # cProfile of round trip 3 only
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Generator
from datetime import UTC, datetime
from pathlib import Path

from OpenSSL import SSL

sys.path.insert(0, str(Path(__file__).resolve().parent))
from idp_eap import prepare_ours  # the same PKI, user and idp.toml as the side-by-side bench

from tsunagaru.eap import diameter as d
from tsunagaru.eap import mschapv2_crypto as mc
from tsunagaru.eap import tls_engine
from tsunagaru.eap.credentials import answer_now
from tsunagaru.eap.packet import EapCode, EapPacket, EapType
from tsunagaru.eap.tls_engine import FLAG_M, TlsFrame
from tsunagaru.idp.config import load
from tsunagaru.idp.service import EapCredential, IdpCore, Reply, build_eap_handler
from tsunagaru.idp.store import SqlCredentialStore
from tsunagaru.radius import Code, Packet, eap_message, sign_request, with_eap_message
from tsunagaru.radius.packet import STATE
from tsunagaru.store import Store

SECRET = b"testing123"
USER = b"alice@idp.example.test"
PASSWORD = b"password"
WALL = datetime.now(UTC)
CLIENT_FRAGMENT = 1398  # eapol_test's default fragment_size

Conversation = Generator[tuple[Packet, int], Packet, None]


class Meter:
    """Server thread CPU, in total, inside OpenSSL's handshake, and per round trip."""

    def __init__(self, core: IdpCore, credentials: SqlCredentialStore, profile_round: int | None) -> None:
        self.core = core
        self.credentials = credentials
        self.total = 0.0
        self.openssl = 0.0
        self.rounds: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
        # thread CPU, not wall time: on a shared machine preemption would land on random functions
        self.profile = cProfile.Profile(time.thread_time) if profile_round is not None else None
        self.profile_round = profile_round
        original = tls_engine.TlsTunnel.handshake
        meter = self

        def timed(tunnel: tls_engine.TlsTunnel) -> bool:
            start = time.thread_time()
            try:
                return original(tunnel)
            finally:
                meter.openssl += time.thread_time() - start

        tls_engine.TlsTunnel.handshake = timed  # type: ignore[method-assign,assignment]

    def reset(self) -> None:
        self.total = self.openssl = 0.0
        self.rounds.clear()

    def serve(self, request: Packet, round_no: int) -> Packet:
        raw = request.to_bytes()
        openssl_before = self.openssl
        profiling = self.profile is not None and self.profile_round in (0, round_no)
        if profiling:
            self.profile.enable()  # type: ignore[union-attr]
        start = time.thread_time()
        action = self.core.decide(Packet.from_bytes(raw), SECRET, time.monotonic(), WALL)
        while isinstance(action, EapCredential):  # the real server: from the cache, or in a worker on a miss
            action = self.core.resume(action, answer_now(self.credentials, action.query), time.monotonic())
        assert isinstance(action, Reply)
        reply = action.packet
        wire = reply.to_bytes() if reply is not None else b""
        spent = time.thread_time() - start
        if profiling:
            self.profile.disable()  # type: ignore[union-attr]
        self.total += spent
        entry = self.rounds[round_no]
        entry[0] += 1
        entry[1] += spent
        entry[2] += self.openssl - openssl_before
        return Packet.from_bytes(wire)


def conversation(client_ctx: SSL.Context, method: str = "tls") -> Conversation:
    """One login as eapol_test sends it (EAP-TLS, TTLS/PAP or PEAP/MSCHAPv2); yields (request, round trip
    number), gets replies."""
    state: bytes | None = None
    identifier = 0
    eap_type = {"tls": EapType.TLS, "ttls-pap": EapType.TTLS, "peap-mschapv2": EapType.PEAP}[method]

    def send(eap: bytes) -> Generator[tuple[Packet, int], Packet, tuple[Packet, EapPacket]]:
        nonlocal state, identifier
        identifier = (identifier + 1) % 256
        packet = Packet(Code.ACCESS_REQUEST, identifier, os.urandom(16), ((1, USER),))
        if state:
            packet = packet.add((STATE, state))
        reply = yield sign_request(with_eap_message(packet, eap), SECRET), identifier
        state = reply.get(STATE)
        raw = eap_message(reply)
        assert raw is not None
        return reply, EapPacket.from_bytes(raw)

    def flight(out: bytes, eap: EapPacket) -> Generator[tuple[Packet, int], Packet, tuple[Packet, EapPacket, bytes]]:
        """Send ``out`` (TLS records; empty: an ACK) fragmented as the peer does, collect the server's
        whole answer (ACKing its fragments)."""
        chunks = [out[i : i + CLIENT_FRAGMENT] for i in range(0, len(out), CLIENT_FRAGMENT)] or [b""]
        for i, chunk in enumerate(chunks):
            flags = (0x80 if i == 0 and len(chunks) > 1 else 0) | (0x40 if i < len(chunks) - 1 else 0)
            data = bytes((flags,)) + (len(out).to_bytes(4, "big") if flags & 0x80 else b"") + chunk
            reply, eap = yield from send(EapPacket(EapCode.RESPONSE, eap.identifier, eap_type, data).to_bytes())
        parts = []
        while eap.code == EapCode.REQUEST and eap.type == eap_type:
            frame = TlsFrame.from_bytes(eap.data)
            parts.append(frame.data)
            if not frame.flags & FLAG_M:
                break
            reply, eap = yield from send(EapPacket(EapCode.RESPONSE, eap.identifier, eap_type, b"\x00").to_bytes())
        return reply, eap, b"".join(parts)

    def tunnel(data: bytes, eap: EapPacket) -> Generator[tuple[Packet, int], Packet, tuple[Packet, EapPacket, bytes]]:
        """Application data through the tunnel (empty: an ACK); the server's decrypted answer."""
        if data:
            tls.sendall(data)
        reply, eap, records = yield from flight(tls.bio_read(65536) if data else b"", eap)
        if records:
            tls.bio_write(records)
        received = b""
        with contextlib.suppress(SSL.WantReadError):
            while True:
                received += tls.recv(65536)
        return reply, eap, received

    reply, eap = yield from send(EapPacket(EapCode.RESPONSE, 0, EapType.IDENTITY, USER).to_bytes())
    if eap.type != eap_type:  # the IdP proposes its first method: ask for ours
        reply, eap = yield from send(EapPacket(EapCode.RESPONSE, eap.identifier, EapType.NAK,
                                               bytes((eap_type,))).to_bytes())
    tls = SSL.Connection(client_ctx, None)
    tls.set_connect_state()
    while True:
        try:
            tls.do_handshake()
            break
        except SSL.WantReadError:
            pass
        reply, eap, records = yield from flight(tls.bio_read(65536), eap)
        tls.bio_write(records)
    if method == "tls":
        reply, eap, _ = yield from flight(b"", eap)
    elif method == "ttls-pap":
        avps = d.encode_avps([d.Avp(d.USER_NAME, USER), d.Avp(d.USER_PASSWORD, PASSWORD + b"\0" * 8)])
        reply, eap, _ = yield from tunnel(avps, eap)
    else:
        inner = b""
        with contextlib.suppress(SSL.WantReadError):
            inner = tls.recv(65536)  # the inner Identity request, sent with the server's Finished
        if not inner:  # an older server: ACK the Finished to get it
            reply, eap, inner = yield from tunnel(b"", eap)
        reply, eap, inner = yield from tunnel(bytes((EapType.IDENTITY,)) + USER, eap)  # -> MSCHAPv2 Challenge
        ms_id, challenge = inner[2], inner[6:22]
        peer_challenge = os.urandom(16)
        nt = mc.generate_nt_response(challenge, peer_challenge, USER, mc.nt_password_hash(PASSWORD.decode()))
        body = bytes((49,)) + peer_challenge + bytes(8) + nt + b"\x00" + USER
        response = bytes((EapType.MSCHAPV2, 2, ms_id)) + (4 + len(body)).to_bytes(2, "big") + body
        reply, eap, inner = yield from tunnel(response, eap)  # -> Success-Request
        if inner[:2] != bytes((EapType.MSCHAPV2, 3)):
            raise RuntimeError(f"MSCHAPv2 refused: {inner[:40]!r}")
        reply, eap, inner = yield from tunnel(bytes((EapType.MSCHAPV2, 3)), eap)  # -> Result TLV (whole EAP)
        tlv = EapPacket.from_bytes(inner)
        answer = EapPacket(EapCode.RESPONSE, tlv.identifier, EapType.TLV, tlv.data).to_bytes()
        reply, eap, _ = yield from tunnel(answer, eap)
    if reply.code != Code.ACCESS_ACCEPT:
        raise RuntimeError(f"{method} ended with code {reply.code}")


def run(meter: Meter, client_ctx: SSL.Context, count: int, concurrent: int, method: str = "tls") -> None:
    """``count`` logins, ``concurrent`` of them interleaved round by round."""
    live: list[tuple[Conversation, tuple[Packet, int]]] = []
    started = done = 0
    while done < count:
        while len(live) < concurrent and started < count:
            conv = conversation(client_ctx, method)
            live.append((conv, next(conv)))
            started += 1
        still: list[tuple[Conversation, tuple[Packet, int]]] = []
        for conv, (request, round_no) in live:
            try:
                still.append((conv, conv.send(meter.serve(request, round_no))))
            except StopIteration:
                done += 1
        live = still


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", type=Path, default=Path("/work/shared/bench-peers"))
    p.add_argument("--work", type=Path, help="folder for the PKI and state (default: a new temp folder)")
    p.add_argument("--n", type=int, default=320, help="handshakes per repetition")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--concurrent", type=int, default=64)
    p.add_argument("--profile", type=int, metavar="ROUND", help="cProfile this round trip only (0: all)")
    p.add_argument("--method", choices=("tls", "ttls-pap", "peap-mschapv2"), default="tls")
    args = p.parse_args()
    work = (args.work or Path(tempfile.mkdtemp(prefix="tsunagaru-inproc-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if not (work / "pki" / "client.crt").exists():
        subprocess.run([str(args.bench / "pki.sh"), "--out", str(work / "pki"), "--ec"], check=True,
                       capture_output=True, env={**os.environ, "BENCH_WORK": str(work)})
    cfg = load(prepare_ours(work, 1024))
    store = Store.open(cfg.db_url)
    credentials = SqlCredentialStore(store, cache_ttl=cfg.cache_ttl)
    core = IdpCore(cfg.settings, build_eap_handler(cfg.settings, credentials, SECRET))
    pki = work / "pki"
    client_ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    client_ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
    client_ctx.load_verify_locations(str(pki / "root.crt"))
    client_ctx.use_certificate_chain_file(str(pki / "client-chain.pem"))
    client_ctx.use_privatekey_file(str(pki / "client.key"))
    meter = Meter(core, credentials, args.profile)
    try:
        run(meter, client_ctx, args.concurrent, args.concurrent, args.method)  # warm-up: contexts, caches
        best: tuple[float, float, dict[int, list[float]]] | None = None
        for _ in range(args.repeat):
            meter.reset()
            run(meter, client_ctx, args.n, args.concurrent, args.method)
            if best is None or meter.total < best[0]:
                best = (meter.total, meter.openssl, {k: list(v) for k, v in meter.rounds.items()})
        assert best is not None
        total, openssl, rounds = best
        print(f"work folder: {work}")
        print(f"server CPU per {args.method} handshake (best of {args.repeat} x {args.n}, "
              f"{args.concurrent} interleaved): "
              f"{total / args.n * 1000:.3f} ms, of which OpenSSL do_handshake {openssl / args.n * 1000:.3f} ms")
        for k in sorted(rounds):
            calls, spent, in_tls = rounds[k]
            print(f"  round trip {k}: {spent / calls * 1e6:6.1f} us (OpenSSL {in_tls / calls * 1e6:6.1f} us)")
        if meter.profile is not None:
            pstats.Stats(meter.profile).sort_stats("tottime").print_stats(30)
    finally:
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
