"""Benchmark our IdP's EAP against FreeRADIUS in one run (not a test): EAP-TLS, TTLS/PAP, PEAP/MSCHAPv2.

Uses the shared AAA harness (default /work/shared/bench-peers): ``pki.sh`` makes the PKI both servers
use, ``freeradius/gen-config.sh`` the FreeRADIUS IdP, ``load-eap.sh`` drives ``eapol_test -r`` from
``--procs`` processes and measures the watched server's CPU (per handshake, tail included) and RSS.
Both servers listen on 127.0.0.1:18120 (secret testing123) one after the other, never together.

    .venv/bin/python bench/idp_eap.py                 # 64 processes x 15 handshakes per method
    .venv/bin/python bench/idp_eap.py --rsa           # RSA-2048 PKI instead of EC P-256
    .venv/bin/python bench/idp_eap.py --only ours --profile   # cProfile our IdP (slower; figures not comparable)
    .venv/bin/python bench/idp_eap.py --scrypt-n 1024 # cheaper PAP hash for alice (say so when quoting it)
    .venv/bin/python bench/idp_eap.py --rounds 3 --base /tmp/old/src   # A/B: also our IdP from another tree
    .venv/bin/python bench/idp_eap.py --fragment-size 1024   # both servers at one fragment size (default:
                                                             # each its own: ours 1386 here, FreeRADIUS 1024)

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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support: the port probes
from tests.support.procs import free_port, port_free

HOST, PORT, SECRET = "127.0.0.1", 18120, "testing123"
METHODS = ("tls", "ttls-pap", "peap-mschapv2")
REALM = "idp.example.test"


def wait_udp(port: int, proc: subprocess.Popen[bytes], timeout: float = 60, sockets: int = 1) -> None:
    """Until ``sockets`` sockets are bound to ``port`` (one per ``--workers`` worker: they start one after
    another, and a load started before the last one binds has its conversations moved between workers
    by SO_REUSEPORT's rehash half-way, which fails them with an unknown State)."""
    needle = f":{port:04X} "
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before binding {port}")
        bound = 0
        for table in ("/proc/net/udp", "/proc/net/udp6"):
            with open(table) as f:
                bound += sum(needle in line[:40] for line in f)
        if bound >= sockets:
            return
        time.sleep(0.1)
    raise TimeoutError(f"{sockets} socket(s) did not bind UDP {port}")


@contextmanager
def daemon(argv: list[str], log: Path, port: int, env: dict[str, str] | None = None,
           sockets: int = 1) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server in the foreground as our child; stop it by pid (TERM, then KILL)."""
    if not port_free(port, HOST):
        sys.exit(f"port {port} is in use: another benchmark or server holds it")
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    try:
        wait_udp(port, proc, sockets=sockets)
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


def watched(pid: int) -> list[int]:
    """The pids to watch: the server and, with ``--workers``, its worker processes (its children)."""
    try:
        children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        children = []
    return [pid, *children]


def load(bench: Path, env: dict[str, str], method: str, n: int, procs: int, label: str, pid: int | list[int],
         out: Path) -> dict[str, object]:
    pids = [pid] if isinstance(pid, int) else pid
    watch = ",".join(f"{label}{'' if i == 0 else f'.w{i}'}={p}" for i, p in enumerate(pids))
    argv = [str(bench / "load-eap.sh"), method, HOST, str(PORT), SECRET, str(n), "--procs", str(procs),
            "--pki", env["BENCH_WORK"] + "/pki", "--label", label, "--watch", watch, "--out", str(out)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    print(done.stdout.strip() or done.stderr[-2000:], flush=True)
    if not out.exists():
        raise RuntimeError(f"load-eap.sh wrote no result: {done.stderr[-2000:]}")
    result: dict[str, object] = json.loads(out.read_text())
    return result


def run_freeradius(bench: Path, env: dict[str, str], work: Path, args: argparse.Namespace) -> dict[str, object]:
    fr = work / "freeradius"
    subprocess.run([str(bench / "freeradius/gen-config.sh"), "--pki", str(work / "pki"), "--out", str(fr),
                    "--radsec-port", "0", "--acct-port", str(free_port(socket.SOCK_DGRAM))], env=env, check=True,
                   capture_output=True)
    if args.fragment_size:
        set_fragment_size(fr / "raddb" / "mods-available" / "eap", args.fragment_size)
    results: dict[str, object] = {}
    with daemon(["freeradius", "-f", "-d", str(fr / "raddb")], fr / "stdout.log", PORT) as proc:
        for method in args.methods:
            results[method] = load(bench, env, method, args.n, args.procs, "freeradius", proc.pid,
                                   work / "results" / f"freeradius-{method}.json")
        results["memory_kb"] = memory_kb(proc.pid)
    return results


def set_fragment_size(eap_conf: Path, size: int) -> None:
    """FreeRADIUS with ``fragment_size = size`` in its tls-common (its default, unset, is 1024)."""
    text = eap_conf.read_text()
    marker = "tls-config tls-common {"
    if marker not in text:
        raise RuntimeError(f"no {marker!r} in {eap_conf}: gen-config.sh changed")
    eap_conf.write_text(text.replace(marker, f"{marker}\n\t\tfragment_size = {size}", 1))


def prepare_ours(work: Path, scrypt_n: int, fragment_size: int | None = None) -> Path:
    """Our IdP's state for the bench PKI: alice (password "password", MSCHAPv2 on) and her certificate;
    ``fragment_size`` None: our default (1398, lowered by eapol_test's Framed-MTU of 1400 to 1386)."""
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
{"" if fragment_size is None else f"fragment_size = {fragment_size}"}

[udp]
listen = "{HOST}:{PORT}"
secret = "{SECRET}"
allowed = "127.0.0.0/8"
""")
    return config


def run_ours(bench: Path, env: dict[str, str], work: Path, args: argparse.Namespace,
             label: str = "tsunagaru", src: Path | None = None) -> dict[str, object]:
    """Our IdP (from ``src``, a source tree's ``src`` folder, when given: the A/B baseline)."""
    config = prepare_ours(work, args.scrypt_n, args.fragment_size)
    serve = ["-m", "tsunagaru", "idp", "serve", "--log-level", "warning", "--config", str(config)]
    if args.workers:
        serve += ["--workers", str(args.workers)]
    if args.profile:
        serve = ["-m", "cProfile", "-o", str(work / "tsunagaru.prof"), *serve]
    results: dict[str, object] = {}
    child_env = None if src is None else {**os.environ, "PYTHONPATH": str(src.resolve())}
    with daemon([sys.executable, *serve], work / f"{label}.log", PORT, child_env, max(1, args.workers)) as proc:
        results["memory_kb_start"] = memory_kb(proc.pid)
        for method in args.methods:
            results[method] = load(bench, env, method, args.n, args.procs, label, watched(proc.pid),
                                   work / "results" / f"{label}-{method}.json")
        results["memory_kb"] = memory_kb(proc.pid)
    if args.profile:
        import pstats

        print("\n--- cProfile of our IdP (cumulative, top 25) ---")
        pstats.Stats(str(work / "tsunagaru.prof")).sort_stats("cumulative").print_stats(25)
        pstats.Stats(str(work / "tsunagaru.prof")).sort_stats("tottime").print_stats(20)
    return results


def per_handshake(result: object, label: str) -> dict[str, float | int | None]:
    """CPU ms per handshake (tail included; summed over the server's processes), succeeded, failed,
    handshakes/s and login latency (median, p90 ms) from a load-eap.sh result."""
    if not isinstance(result, dict):
        return {"ms": None, "ok": 0, "bad": 0, "rate": None, "median": None, "p90": None, "rt": None}
    servers = result.get("measure", {}).get("servers", {})
    parts = [v.get("cpu_ms_per_handshake") for k, v in servers.items() if k == label or k.startswith(label + ".w")]
    ms = round(sum(parts), 3) if parts and all(p is not None for p in parts) else None
    latency = result.get("latency_ms", {})
    return {"ms": ms, "ok": result.get("succeeded", 0), "bad": result.get("failed", 0),
            "rate": result.get("handshakes_per_s"), "median": latency.get("median"), "p90": latency.get("p90"),
            "rt": result.get("access_requests_per_handshake")}


def _fmt(value: object) -> str:
    return "-" if value is None else str(value)


def report(args: argparse.Namespace, fr: dict[str, object], ours: dict[str, dict[str, object]]) -> str:
    """One round: FreeRADIUS and each of our contenders (``tsunagaru``, and ``base`` in an A/B run)."""
    lines = [f"EAP handshakes: {args.procs} eapol_test processes, {args.n} per method, "
             f"{'RSA-2048' if args.rsa else 'EC P-256'} PKI, scrypt n={args.scrypt_n} for alice, "
             f"fragment size {args.fragment_size or 'each default'}"
             f"{f', {args.workers} workers' if args.workers else ''}; load average {load_average()}",
             f"{'method':14} {'server':11} {'ms/hs':>7} {'ratio':>6} {'hs/s':>7} {'med ms':>7} {'p90 ms':>7} "
             f"{'rt/hs':>5}  ok"]
    for method in args.methods:
        f = per_handshake(fr.get(method), "freeradius")
        rows = [("freeradius", f)] if fr else []
        rows += [(label, per_handshake(res.get(method), label)) for label, res in ours.items() if res]
        for label, r in rows:
            ratio = f"{r['ms'] / f['ms']:.2f}x" if label != "freeradius" and f["ms"] and r["ms"] else ""
            total = int(r["ok"] or 0) + int(r["bad"] or 0)
            lines.append(f"{method:14} {label:11} {_fmt(r['ms']):>7} {ratio:>6} {_fmt(r['rate']):>7} "
                         f"{_fmt(r['median']):>7} {_fmt(r['p90']):>7} {_fmt(r['rt']):>5}  {r['ok']}/{total}")
    for name, res in (("freeradius", fr), *ours.items()):
        mem = res.get("memory_kb")
        if isinstance(mem, dict):
            lines.append(f"{name} after the load: RSS {mem.get('VmRSS', 0) / 1024:.1f} MB, "
                         f"peak {mem.get('VmHWM', 0) / 1024:.1f} MB")
    return "\n".join(lines)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


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
    p.add_argument("--base", type=Path, help="A/B: also run our IdP from this source tree's src/ folder, "
                   "alternated with the installed one (labelled base)")
    p.add_argument("--fragment-size", type=int, help="EAP-TLS fragment size for both servers (default: each "
                   "server's own, ours 1398 capped by Framed-MTU, FreeRADIUS 1024)")
    p.add_argument("--workers", type=int, default=0, help="`idp serve --workers N` (0: the option is not given)")
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
    rounds: list[tuple[dict[str, object], dict[str, dict[str, object]]]] = []
    for n in range(max(1, args.rounds)):  # alternated: the shared machine's drift hits all alike
        fr = run_freeradius(args.bench, env, work, args) if args.only in ("both", "freeradius") else {}
        ours: dict[str, dict[str, object]] = {}
        if args.only in ("both", "ours"):
            order = [("tsunagaru", None), *([("base", args.base / "src" if (args.base / "src").is_dir()
                                              else args.base)] if args.base else [])]
            for label, src in (order if n % 2 == 0 else order[::-1]):
                ours[label] = run_ours(args.bench, env, work, args, label, src)
        rounds.append((fr, ours))
        print("\n" + report(args, fr, ours), flush=True)
    text = "\n\n".join(report(args, fr, ours) for fr, ours in rounds)
    if len(rounds) > 1:
        text += "\n\n" + means(args, rounds)
    print("\n" + text)
    (work / "summary.txt").write_text(text + "\n")
    (work / "summary.json").write_text(json.dumps(
        [{"freeradius": fr, **ours} for fr, ours in rounds], indent=1, default=str))
    return 0


def means(args: argparse.Namespace, rounds: list[tuple[dict[str, object], dict[str, dict[str, object]]]]) -> str:
    """Mean CPU per handshake, handshakes/s and latency over the rounds, and the ratio of the CPU means."""
    lines = [f"Means over {len(rounds)} alternated rounds (ms CPU per handshake; hs/s; median / p90 ms):"]
    labels = ["freeradius", *dict.fromkeys(label for _, ours in rounds for label in ours)]

    def mean(values: list[float | int | None]) -> float | None:
        got = [float(v) for v in values if v is not None]
        return sum(got) / len(got) if got else None

    for method in args.methods:
        figures = {}
        for label in labels:
            rows = [per_handshake((fr if label == "freeradius" else ours.get(label, {})).get(method), label)
                    for fr, ours in rounds]
            figures[label] = {k: mean([r[k] for r in rows]) for k in ("ms", "rate", "median", "p90")}
            figures[label]["each"] = [r["ms"] for r in rows]  # type: ignore[assignment]
        ref = figures["freeradius"]["ms"]
        for label in labels:
            m = figures[label]
            if m["ms"] is None:
                continue
            ratio = f" ratio {m['ms'] / ref:.2f}x" if ref and label != "freeradius" else ""
            lines.append(f"{method:14} {label:11} {m['ms']:.3f} {m['each']}{ratio}  "
                         f"{_fmt(m['rate'] and round(m['rate'], 1))} hs/s  "
                         f"{_fmt(m['median'] and round(m['median'], 1))} / {_fmt(m['p90'] and round(m['p90'], 1))} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
