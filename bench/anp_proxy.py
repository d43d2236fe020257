"""CPU per proxied request: our ANP proxy next to radsecproxy, on the same path, in one run.

Not a test: run ``.venv/bin/python bench/anp_proxy.py [--requests 20000] [--parallel 64]``.
Path for both: radclient (PAP, /work/shared/bench-peers/load-pap.sh in ``count`` mode) -> proxy on
127.0.0.1 (RADIUS/UDP) -> RadSec -> FreeRADIUS 3.2 (one instance, shared). Both proxies use the same
federation member certificate (the demo state's ``anp.pem``) and reach FreeRADIUS's RadSec port by a
static route. The harness watches the proxy's pid (and FreeRADIUS's) and reports CPU per request,
with its tail after each step. Every step is bounded by a request count and a wall-clock cap.

Fairness notes: radclient adds no Message-Authenticator, so the ANP's bench client is configured with
``require_message_authenticator = false`` (radsecproxy does not require it either), and its rate
limit is lifted. The ANP logs one JSON line per request at ``--anp-log-level info`` (its default);
radsecproxy runs at LogLevel 3 (it logs each reply too).
Writes bench/results/anp-proxy-<time>/ (harness JSON per step + summary.json) and prints a table.

A/B of a lever in the same run: ``--variant NAME=ENV`` starts one more ANP per variant (its own ports
and spool, the same configuration) with extra environment ``ENV`` (``K=V`` pairs joined by ``,``), and
every round runs radsecproxy and then each ANP in turn. E.g. ``--variant asyncio=TSUNAGARU_EVENT_LOOP=asyncio
--variant uvloop=TSUNAGARU_EVENT_LOOP=uvloop``; ``PYTHONPATH=/tmp/old/src`` runs another checkout's code
(``git archive COMMIT src | tar -x -C /tmp/old``). Without ``--variant`` one ANP runs, as before.
``--py-spy`` samples each ANP step with ``py-spy record`` (raw collapsed stacks beside the step's JSON,
``NN-NAME.pyspy.txt``) and prints the functions with the most own samples; it adds CPU of its own, so
take figures from runs without it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support holds the process, PKI and FreeRADIUS helpers
sys.path.insert(0, str(ROOT / "src"))

from tests.support.anp_freeradius import freeradius_eap_idp  # noqa: E402
from tests.support.anp_stack import anp_ports, anp_toml, make_state, run_anp  # noqa: E402
from tests.support.radsec_certs import PkiPaths  # noqa: E402
from tests.support.radsec_peers import radsecproxy  # noqa: E402
from tsunagaru.demo_state import PASSWORD, REALM, USER  # noqa: E402

HARNESS = Path(os.environ.get("BENCH_PEERS", "/work/shared/bench-peers"))
BENCH_CLIENT = "require_message_authenticator = false\nrate = 1000000\nburst = 10000000"
RADSECPROXY_US = (32, 40)  # radsecproxy's CPU per request measured earlier on this machine (issue 4)


def load(label: str, port: int, pids: dict[str, int], out: Path, a: argparse.Namespace) -> dict[str, Any]:
    """One load-pap.sh step against 127.0.0.1:port; returns the harness's JSON result."""
    argv = [str(HARNESS / "load-pap.sh"), "127.0.0.1", str(port), "testing123", str(a.requests), str(a.parallel),
            "--mode", "count", "--procs", str(a.procs), "--user", f"{USER}@{REALM}", "--password", PASSWORD,
            "--label", label, "--out", str(out), "--max-seconds", str(a.max_seconds)]
    for name, pid in pids.items():
        argv += ["--watch", f"{name}={pid}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=a.max_seconds + 120, check=False)
    print(done.stdout.strip() or done.stderr.strip()[-2000:], flush=True)
    return dict(json.loads(out.read_text())) if out.exists() else {"error": done.stderr[-2000:]}


def per_request(result: dict[str, Any], name: str) -> float | None:
    server = result.get("measure", {}).get("servers", {}).get(name, {})
    value = server.get("cpu_us_per_request")
    return float(value) if value is not None else None


def ping(port: int) -> bool:
    request = f'User-Name = "{USER}@{REALM}"\nUser-Password = "{PASSWORD}"\n'
    done = subprocess.run(["radclient", "-q", "-t", "2", "-r", "3", f"127.0.0.1:{port}", "auth", "testing123"],
                          input=request, capture_output=True, text=True, timeout=30, check=False)
    return done.returncode == 0


def variants(specs: list[str] | None) -> list[tuple[str, dict[str, str]]]:
    """``NAME=K=V,K=V`` -> (``tsunagaru-anp-NAME``, env); none given: the one default ANP."""
    if not specs:
        return [("tsunagaru-anp", {})]
    out = []
    for spec in specs:
        name, _, rest = spec.partition("=")
        env = dict(pair.split("=", 1) for pair in rest.split(",") if pair)
        out.append((f"tsunagaru-anp-{name}", env))
    return out


def start_anp(stack: contextlib.ExitStack, folder: Path, toml: str, ports: Any, env: dict[str, str],
              level: str) -> Any:
    """``run_anp`` with this variant's environment; on a saturated box a start can miss run_anp's 15 s
    wait for the port, so up to three attempts (each one's process is stopped by pid before the next)."""
    for _ in range(3):
        try:
            with environment(env):  # the ANP's process inherits it
                return stack.enter_context(run_anp(folder, toml, ports, log_level=level))
        except TimeoutError as exc:
            print(f"{folder.name}: {exc}; trying again", file=sys.stderr, flush=True)
    raise TimeoutError(f"{folder.name} did not start in three attempts")


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextlib.contextmanager
def sampling(pid: int, dest: Path | None, native: bool = False) -> Iterator[None]:
    """``py-spy record`` of ``pid`` into ``dest`` for the block (nothing when ``dest`` is None); ``native``:
    C frames too (mypyc-compiled functions, uvloop, OpenSSL), which otherwise count in their Python caller;
    py-spy can only do that by pausing the process for each sample, so that step's CPU figure is inflated."""
    if dest is None:
        yield
        return
    spy = ROOT / ".venv" / "bin" / "py-spy"
    proc = subprocess.Popen([str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "250",
                             *(["--native"] if native else ["--nonblocking"]), "-o", str(dest)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def top_frames(raw: Path, n: int = 25) -> str:
    """The frames with the most own samples (leaf of each stack) and the total, from py-spy's raw output."""
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines() if raw.exists() else []:
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        leaf = stack.rsplit(";", 1)[-1]
        own[leaf] = own.get(leaf, 0) + int(count)
    rows = sorted(own.items(), key=lambda kv: -kv[1])[:n]
    return "\n".join([f"py-spy {raw.name}: {total} samples"] +
                     [f"{100 * c / max(total, 1):5.1f}%  {frame}" for frame, c in rows])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=20000, help="Access-Requests per proxy per round")
    p.add_argument("--parallel", type=int, default=64, help="requests in flight per radclient")
    p.add_argument("--procs", type=int, default=1, help="radclient processes")
    p.add_argument("--rounds", type=int, default=2, help="alternate the proxies this many times")
    p.add_argument("--max-seconds", type=float, default=120, help="wall-clock cap per step")
    p.add_argument("--anp-log-level", default="info")
    p.add_argument("--py-spy", action="store_true", help="sample each ANP step with py-spy (see the docstring)")
    p.add_argument("--py-spy-native", action="store_true", help="with --py-spy: sample C frames too (--native)")
    p.add_argument("--variant", action="append", help="NAME=K=V,K=V: one more ANP with this environment (A/B)")
    p.add_argument("--work", type=Path, default=None, help="state folder (default a fresh one under /tmp)")
    a = p.parse_args()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = ROOT / "bench" / "results" / f"anp-proxy-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    work = a.work or Path(f"/tmp/tsunagaru-bench-anp-{stamp}")
    state = make_state(work / "state")
    fed = PkiPaths(ca=state.path("federation-roots.pem"), server_cert=state.path("idp-radsec.pem"),
                   server_key=state.path("idp-radsec.key"), client_cert=state.path("anp.pem"),
                   client_key=state.path("anp.key"))
    steps: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        idp = stack.enter_context(freeradius_eap_idp(work / "freeradius", state))
        rsp_port = stack.enter_context(radsecproxy(work, fed, server_port=idp.radsec, realm="*", server_name=REALM))
        rsp_pid = int(subprocess.run(["ss", "-H", "-lunp", f"sport = :{rsp_port}"], capture_output=True, text=True,
                                     check=True).stdout.split("pid=")[1].split(",")[0])
        targets = {"radsecproxy": (rsp_port, rsp_pid)}
        for name, env in variants(a.variant):
            ports = anp_ports()
            toml = anp_toml(state, ports, spool=work / f"{name}-spool.sqlite", client_options=BENCH_CLIENT,
                            routes=[(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])])
            anp = start_anp(stack, work / name, toml, ports, env, a.anp_log_level)
            targets[name] = (anp.auth, anp.pid)
        for name, (port, _) in targets.items():
            if not ping(port):
                print(f"{name} on {port} does not answer an Access-Request; stopping", file=sys.stderr)
                return 1
        for r in range(a.rounds):
            for name, (port, pid) in targets.items():
                spy = out / f"{r:02d}-{name}.pyspy.txt" if a.py_spy and name != "radsecproxy" else None
                with sampling(pid, spy, a.py_spy_native):
                    result = load(name, port, {name: pid, "freeradius": idp.pid}, out / f"{r:02d}-{name}.json", a)
                if spy is not None:
                    print(top_frames(spy), flush=True)
                steps.append({"round": r, "proxy": name, "result": result, "loadavg": os.getloadavg(),
                              "proxy_cpu_us_per_request": per_request(result, name),
                              "freeradius_cpu_us_per_request": per_request(result, "freeradius")})
    summary = summarise(steps, a)
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "steps"}, indent=2))
    print(f"results in {out}")
    return 0


def summarise(steps: list[dict[str, Any]], a: argparse.Namespace) -> dict[str, Any]:
    def figures(proxy: str) -> dict[str, Any]:
        mine = [s for s in steps if s["proxy"] == proxy and s["proxy_cpu_us_per_request"] is not None]
        us = [s["proxy_cpu_us_per_request"] for s in mine]
        rates = [s["result"].get("requests_per_s") for s in mine]
        return {"cpu_us_per_request": us, "best_us": min(us) if us else None,
                "mean_us": round(sum(us) / len(us), 1) if us else None, "requests_per_s": rates,
                "failures": [s["result"].get("failures") for s in mine],
                "freeradius_cpu_us_per_request": [s["freeradius_cpu_us_per_request"] for s in mine]}

    theirs = figures("radsecproxy")
    anps = {name: figures(name) for name, _ in variants(a.variant)}
    ratios = {name: (round(ours["mean_us"] / theirs["mean_us"], 2)
                     if ours["mean_us"] is not None and theirs["mean_us"] else None) for name, ours in anps.items()}
    summary: dict[str, Any] = {
        "kind": "anp-proxy", "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host": {"cpus": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release(),
                 "loadavg": os.getloadavg()},
        "settings": {"requests": a.requests, "parallel": a.parallel, "procs": a.procs, "rounds": a.rounds,
                     "anp_log_level": a.anp_log_level, "variants": a.variant or []},
        "radsecproxy": theirs, "radsecproxy_reference_us": RADSECPROXY_US}
    if not a.variant:
        summary.update(tsunagaru_anp=anps["tsunagaru-anp"], ratio_anp_over_radsecproxy=ratios["tsunagaru-anp"])
    else:
        summary.update(anp_variants=anps, ratios_over_radsecproxy=ratios)
    summary["steps"] = steps
    return summary


if __name__ == "__main__":
    sys.exit(main())
