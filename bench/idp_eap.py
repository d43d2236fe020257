"""Benchmark our IdP's EAP against FreeRADIUS in one run (not a test): EAP-TLS, TTLS/PAP, PEAP/MSCHAPv2.

Uses the shared AAA harness (default /work/shared/bench-peers): ``pki.sh`` makes the PKI both servers
use, ``freeradius/gen-config.sh`` the FreeRADIUS IdP, ``load-eap.sh`` drives ``eapol_test -r`` from
``--procs`` processes and measures the watched server's CPU (per handshake, tail included) and RSS.
Both servers listen on 127.0.0.1:18120 (secret testing123) one after the other, never together.

    .venv/bin/python bench/idp_eap.py                 # 64 processes x 15 handshakes per method
    .venv/bin/python bench/idp_eap.py --rsa           # RSA-2048 PKI instead of EC P-256
    .venv/bin/python bench/idp_eap.py --only ours --profile   # cProfile our IdP (slower; figures not comparable)
    .venv/bin/python bench/idp_eap.py --scrypt-n 1024 # cheaper PAP hash for alice (say so when quoting it)

Everything generated (PKI, raddb, our state, results JSON, profile) goes under ``--work``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from tsunagaru.idp import users
from tsunagaru.idp.passwords import DEFAULT_N, ScryptParams
from tsunagaru.store import Store

HOST, PORT, SECRET = "127.0.0.1", 18120, "testing123"
METHODS = ("tls", "ttls-pap", "peap-mschapv2")
REALM = "idp.example.test"


def port_free(port: int) -> bool:
    for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
        with socket.socket(socket.AF_INET, kind) as s:
            try:
                s.bind((HOST, port))
            except OSError:
                return False
    return True


def wait_udp(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    needle = f":{port:04X} "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before binding {port}")
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with open(table) as f:
                if any(needle in line[:40] for line in f):
                    return
        time.sleep(0.1)
    raise TimeoutError(f"nothing bound UDP {port}")


@contextmanager
def daemon(argv: list[str], log: Path, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server in the foreground as our child; stop it by pid (TERM, then KILL)."""
    if not port_free(port):
        sys.exit(f"port {port} is in use: another benchmark or server holds it")
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_udp(port, proc)
        time.sleep(0.5)
        yield proc
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(5)


def memory_kb(pid: int) -> dict[str, int]:
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def load(bench: Path, env: dict[str, str], method: str, n: int, procs: int, label: str, pid: int,
         out: Path) -> dict[str, object]:
    argv = [str(bench / "load-eap.sh"), method, HOST, str(PORT), SECRET, str(n), "--procs", str(procs),
            "--pki", env["BENCH_WORK"] + "/pki", "--label", label, "--watch", f"{label}={pid}", "--out", str(out)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    print(done.stdout.strip() or done.stderr[-2000:], flush=True)
    if not out.exists():
        raise RuntimeError(f"load-eap.sh wrote no result: {done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(out.read_text())
    return result


def run_freeradius(bench: Path, env: dict[str, str], work: Path, args: argparse.Namespace) -> dict[str, object]:
    fr = work / "freeradius"
    subprocess.run([str(bench / "freeradius/gen-config.sh"), "--pki", str(work / "pki"), "--out", str(fr),
                    "--radsec-port", "0", "--acct-port", "0"], env=env, check=True, capture_output=True)
    results: dict[str, object] = {}
    with daemon(["freeradius", "-f", "-d", str(fr / "raddb")], fr / "stdout.log", PORT) as proc:
        for method in args.methods:
            results[method] = load(bench, env, method, args.n, args.procs, "freeradius", proc.pid,
                                   work / "results" / f"freeradius-{method}.json")
        results["memory_kb"] = memory_kb(proc.pid)
    return results


def prepare_ours(work: Path, scrypt_n: int) -> Path:
    """Our IdP's state for the bench PKI: alice (password "password", MSCHAPv2 on) and her certificate."""
    state = work / "tsunagaru"
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir(parents=True)
    pki = work / "pki"
    db = f"sqlite:///{state / 'idp.sqlite'}"
    now = datetime.now(UTC)
    store = Store.open(db)
    try:
        with store.session() as s:
            users.add_user(s, "alice", now=now, password="password", realm=REALM, mschapv2=True,
                           params=ScryptParams(n=scrypt_n))
        with store.session() as s:
            cert = x509.load_pem_x509_certificate((pki / "client.crt").read_bytes())
            users.record_certificate(s, "alice", cert, now=now)
    finally:
        store.dispose()
    (state / "cui.key").write_bytes(os.urandom(32))
    config = state / "idp.toml"
    config.write_text(f"""[idp]
realms = ["{REALM}"]
db = "{db}"
eap_certificate = "{pki / 'server-chain.pem'}"
eap_key = "{pki / 'server.key'}"
user_ca = "{pki / 'ca-chain.pem'}"
cui_key_file = "cui.key"
wbaid = "BENCHIDP:JP"
methods = ["tls", "ttls", "peap"]
eap_tls13 = false   # FreeRADIUS' bench config caps EAP at TLS 1.2: the same handshake on both sides
fragment_size = 1024

[udp]
listen = "{HOST}:{PORT}"
secret = "{SECRET}"
allowed = "127.0.0.0/8"
""")
    return config


def run_ours(bench: Path, env: dict[str, str], work: Path, args: argparse.Namespace) -> dict[str, object]:
    config = prepare_ours(work, args.scrypt_n)
    serve = ["-m", "tsunagaru", "idp", "serve", "--log-level", "warning", "--config", str(config)]
    if args.profile:
        serve = ["-m", "cProfile", "-o", str(work / "tsunagaru.prof"), *serve]
    results: dict[str, object] = {}
    with daemon([sys.executable, *serve], work / "tsunagaru.log", PORT) as proc:
        results["memory_kb_start"] = memory_kb(proc.pid)
        for method in args.methods:
            results[method] = load(bench, env, method, args.n, args.procs, "tsunagaru", proc.pid,
                                   work / "results" / f"tsunagaru-{method}.json")
        results["memory_kb"] = memory_kb(proc.pid)
    if args.profile:
        import pstats

        print("\n--- cProfile of our IdP (cumulative, top 25) ---")
        pstats.Stats(str(work / "tsunagaru.prof")).sort_stats("cumulative").print_stats(25)
        pstats.Stats(str(work / "tsunagaru.prof")).sort_stats("tottime").print_stats(20)
    return results


def per_handshake(result: object, label: str) -> tuple[float | None, int, int, float | None]:
    """(CPU ms per handshake incl. tail, succeeded, failed, handshakes/s) from a load-eap.sh result."""
    if not isinstance(result, dict):
        return None, 0, 0, None
    server = result.get("measure", {}).get("servers", {}).get(label, {})
    return server.get("cpu_ms_per_handshake"), result.get("succeeded", 0), result.get("failed", 0), \
        result.get("handshakes_per_s")


def report(args: argparse.Namespace, fr: dict[str, object], ours: dict[str, object]) -> str:
    lines = [f"EAP handshakes: {args.procs} eapol_test processes, {args.n} per method, "
             f"{'RSA-2048' if args.rsa else 'EC P-256'} PKI, scrypt n={args.scrypt_n} for alice",
             f"{'method':16} {'FreeRADIUS ms/hs':>17} {'ours ms/hs':>11} {'ratio':>6} "
             f"{'FR hs/s':>8} {'ours hs/s':>9}  ok (FR / ours)"]
    for method in args.methods:
        f_ms, f_ok, f_bad, f_rate = per_handshake(fr.get(method), "freeradius")
        o_ms, o_ok, o_bad, o_rate = per_handshake(ours.get(method), "tsunagaru")
        ratio = f"{o_ms / f_ms:.2f}x" if f_ms and o_ms else "-"
        lines.append(f"{method:16} {f_ms if f_ms is not None else '-':>17} {o_ms if o_ms is not None else '-':>11} "
                     f"{ratio:>6} {f_rate or '-':>8} {o_rate or '-':>9}  {f_ok}/{f_ok + f_bad} / {o_ok}/{o_ok + o_bad}")
    for name, res in (("FreeRADIUS", fr), ("ours", ours)):
        mem = res.get("memory_kb")
        if isinstance(mem, dict):
            lines.append(f"{name} after the load: RSS {mem.get('VmRSS', 0) / 1024:.1f} MB, "
                         f"peak {mem.get('VmHWM', 0) / 1024:.1f} MB")
    return "\n".join(lines)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", type=Path, default=Path("/work/shared/bench-peers"))
    p.add_argument("--work", type=Path, help="folder for everything generated (default: a new temp folder)")
    p.add_argument("--procs", type=int, default=64)
    p.add_argument("--n", type=int, help="handshakes per method (default 15 per process)")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--only", choices=("both", "ours", "freeradius"), default="both")
    p.add_argument("--rsa", action="store_true")
    p.add_argument("--scrypt-n", type=int, default=DEFAULT_N, help=f"alice's scrypt cost (default {DEFAULT_N})")
    p.add_argument("--profile", action="store_true", help="run our IdP under cProfile and print the top")
    p.add_argument("--rounds", type=int, default=1,
                   help="alternate FreeRADIUS and ours this many times; report per-round figures and means")
    args = p.parse_args()
    args.methods = [m for m in args.methods.split(",") if m]
    args.n = args.n or 15 * args.procs
    work = (args.work or Path(tempfile.mkdtemp(prefix="tsunagaru-bench-"))).resolve()
    (work / "results").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "BENCH_WORK": str(work), "BENCH_RESULTS": str(work / "results"),
           "PYTHON": shutil.which("python3") or "python3"}
    pki_args = ["--out", str(work / "pki"), *(["--rsa"] if args.rsa else ["--ec"])]
    subprocess.run([str(args.bench / "pki.sh"), *pki_args], env=env, check=True, capture_output=True)
    print(f"work folder: {work}", flush=True)
    rounds: list[tuple[dict[str, object], dict[str, object]]] = []
    for _ in range(max(1, args.rounds)):  # alternated: the shared machine's drift hits both alike
        fr = run_freeradius(args.bench, env, work, args) if args.only in ("both", "freeradius") else {}
        ours = run_ours(args.bench, env, work, args) if args.only in ("both", "ours") else {}
        rounds.append((fr, ours))
    text = "\n\n".join(report(args, fr, ours) for fr, ours in rounds)
    if len(rounds) > 1:
        text += "\n\n" + means(args, rounds)
    print("\n" + text)
    (work / "summary.txt").write_text(text + "\n")
    (work / "summary.json").write_text(json.dumps(
        [{"freeradius": fr, "tsunagaru": ours} for fr, ours in rounds], indent=1, default=str))
    return 0


def means(args: argparse.Namespace, rounds: list[tuple[dict[str, object], dict[str, object]]]) -> str:
    """Mean CPU per handshake over the rounds, and the ratio of the means."""
    lines = [f"Means over {len(rounds)} alternated rounds (ms CPU per handshake):"]
    for method in args.methods:
        f = [per_handshake(fr.get(method), "freeradius")[0] for fr, _ in rounds]
        o = [per_handshake(ours.get(method), "tsunagaru")[0] for _, ours in rounds]
        fv, ov = [x for x in f if x], [x for x in o if x]
        if fv and ov:
            fm, om = sum(fv) / len(fv), sum(ov) / len(ov)
            lines.append(f"{method:16} FreeRADIUS {fm:.3f} {fv}  ours {om:.3f} {ov}  ratio {om / fm:.2f}x")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
