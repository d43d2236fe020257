"""Benchmark: plan + render (hostapd, one file per radio) + lint, for N synthetic APs (default 20,000),
each with 2 radios and 2 BSSes per radio (the OpenRoaming BSS and 00000JAPAN: the disaster case, the
heaviest). One process, one core. Not a test: prints CPU per AP (process_time) and wall time; the goal
is <= 5 s for 20,000 APs. Bounded by the count and by --max-seconds.

    .venv/bin/python bench/passpoint_render.py [--aps N] [--no-lint] [--format hostapd|openwrt|json]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import time
from pathlib import Path

from tsunagaru.passpoint.description import parse_description
from tsunagaru.passpoint.lint import lint_hostapd
from tsunagaru.passpoint.model import AccessPoint, DisasterState, Radio, Site
from tsunagaru.passpoint.plan import plan_ap
from tsunagaru.passpoint.render.hostapd import render_hostapd
from tsunagaru.passpoint.render.json import render_json
from tsunagaru.passpoint.render.openwrt import render_openwrt

EXAMPLE = Path(__file__).resolve().parents[1] / "src/tsunagaru/passpoint/example.toml"
NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)


def synthetic(n: int, base_site: Site, base_ap: AccessPoint) -> list[tuple[Site, AccessPoint]]:
    out = []
    for i in range(n):
        site = dataclasses.replace(base_site, id=f"S{i:06d}", name_en=f"Site {i}", name_ja=f"拠点{i}")
        radios = tuple(
            Radio(f"radio{r}", radio.band, radio.channel, f"wlan{r}",
                  (f"02:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}:{r:02x}:00",
                   f"02:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}:{r:02x}:01"))
            for r, radio in enumerate(base_ap.radios))
        out.append((site, dataclasses.replace(base_ap, id=f"ap{i:06d}", site_id=site.id,
                                              nas_identifier=f"ap{i:06d}", radios=radios)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--aps", type=int, default=20_000)
    parser.add_argument("--format", choices=("hostapd", "openwrt", "json"), default="hostapd")
    parser.add_argument("--no-lint", action="store_true")
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args()
    desc = parse_description(EXAMPLE.read_text(encoding="utf-8"))
    fleet = synthetic(args.aps, desc.site, desc.ap)
    disaster = DisasterState(NOW + datetime.timedelta(hours=72), "bench")
    renderer = {"openwrt": render_openwrt, "json": render_json}.get(args.format)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    done, octets, findings = 0, 0, 0
    for site, ap in fleet:
        plan = plan_ap(desc.operator, site, ap, disaster, NOW)
        files = render_hostapd(plan, desc.secrets) if renderer is None else {"x": renderer(plan, desc.secrets)}
        for data in files.values():
            octets += len(data)
            if not args.no_lint and renderer is None:
                findings += len(lint_hostapd(data.decode()).findings)
        done += 1
        if time.perf_counter() - wall0 > args.max_seconds:
            break
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    steps = "plan + render" + ("" if args.no_lint or renderer else " + lint")
    print(f"{done} APs x 2 radios x 2 BSSes, {steps} ({args.format}): CPU {cpu:.2f} s, wall {wall:.2f} s, "
          f"{cpu / done * 1e6:.0f} us CPU per AP, {octets / done:.0f} octets per AP, {findings} findings")


if __name__ == "__main__":
    main()
