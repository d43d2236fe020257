"""Two IdP nodes behind one ANP, 1,000 logins, then one node killed under load (not a test: figures).

The same story as tests/interop/test_idp_nodes.py (tests/support/idp_nodes.py :func:`scenario`), with
the full count: two ``tsunagaru idp serve`` nodes (``node_id`` idp-a, idp-b; one shared SQLite store)
behind ``tsunagaru anp run``, reached through dnsmasq with two equal-priority SRV records (``srv``) or a
static ``balance = "spread"`` route (``static``). Phase 1: ``--logins`` eapol_test logins (TTLS/PAP and
EAP-TLS alternating, ``--concurrency`` at a time) must all succeed on both nodes; phase 2:
``--kill-logins`` more with ``--accounting`` records sent through the ANP while idp-a is SIGKILLed.
Prints wall time, logins per node, CPU per login served (the ANP: every login; each node: its own;
/proc utime+stime over phase 1),
the restarts, when the ANP marked idp-a down, and the accounting count in the store; writes JSON.

    .venv/bin/python bench/idp_nodes.py                      # both modes, 1,000 logins each
    .venv/bin/python bench/idp_nodes.py --mode srv --logins 2000

alice's PAP hash uses scrypt n=1024 here (as in the test), not the demo's default: the login path
through two nodes is measured, not scrypt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.support holds the process and load helpers
sys.path.insert(0, str(ROOT / "src"))

from tests.support.idp_nodes import Figures, scenario  # noqa: E402


def summary(f: Figures, wall: float) -> dict[str, object]:
    return {
        "mode": f.mode, "wall_s": round(wall, 1), "loadavg_end": os.getloadavg(),
        "phase1": {"logins": f.first.total, "succeeded": f.first.succeeded, "seconds": round(f.first.seconds, 1),
                   "per_s": round(f.first.succeeded / f.first.seconds, 1) if f.first.seconds else None,
                   "by_method": f.first.ok, "restarts": f.first.restarts, "idp_a": f.on_a, "idp_b": f.on_b,
                   "cpu_ms_per_login_served": {k: round(v / max(1, n) * 1000, 2) for k, v, n in f.cpu_per_login()}},
        "phase2": {"logins": f.second.total, "succeeded": f.second.succeeded,
                   "seconds": round(f.second.seconds, 1), "restarts": f.second.restarts,
                   "marked_down_s": f.marked_down, "to_idp_a_after_2s": f.to_a_after_2s,
                   "accounting_sent": f.accounting.count, "accounting_acked": f.accounting.acked,
                   "stored_rows_keys_sessions": f.rows},
        "replies_slower_than_5s": f.slower_than_5s,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mode", choices=["srv", "static", "both"], default="both")
    p.add_argument("--logins", type=int, default=1000)
    p.add_argument("--kill-logins", type=int, default=300)
    p.add_argument("--accounting", type=int, default=300)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--work", type=Path, default=None, help="folder for state, logs and results (default: a temp dir)")
    args = p.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="idp-nodes-"))
    results = []
    for mode in (["srv", "static"] if args.mode == "both" else [args.mode]):
        print(f"{mode}: load average before {os.getloadavg()}", flush=True)
        started = time.monotonic()
        figures = scenario(work / mode, mode, args.logins, args.kill_logins, args.accounting,
                           concurrency=args.concurrency)
        wall = time.monotonic() - started
        print(figures.report(), flush=True)
        results.append(summary(figures, wall))
        print(json.dumps(results[-1]), flush=True)
    out = ROOT / "bench" / "results" / f"idp-nodes-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"results: {out}; work folder: {work}")
    ok = all(r["phase1"]["succeeded"] == r["phase1"]["logins"]  # type: ignore[index]
             and r["phase2"]["succeeded"] == r["phase2"]["logins"] for r in results)  # type: ignore[index]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
