"""`tsunagaru doctor realm REALM`: the realm diagnosis, from the ANP's own configuration by default."""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from tsunagaru.anp.config import ConfigError, DiscoveryConfig, load
from tsunagaru.tomlconf import hostport


def register(sub: Any) -> None:
    p = sub.add_parser("doctor", help="diagnose reachability and trust")
    doc = p.add_subparsers(dest="doctor_command", metavar="CHECK")
    r = doc.add_parser("realm", help="is REALM reachable as an OpenRoaming identity provider?",
                       description="DNS -> TCP -> TLS with our ANP certificate -> federation PKI -> Status-Server. "
                                   "Exit code 0 only when every step passes.")
    r.add_argument("realm")
    r.add_argument("--json", action="store_true", help="print the report as JSON")
    r.add_argument("--config", type=Path, help="the ANP's TOML (default: STATE/anp.toml)")
    r.add_argument("--state", type=Path, default=Path("tsunagaru-demo"),
                   help="demo state folder (default ./tsunagaru-demo)")
    r.add_argument("--nameserver", metavar="HOST:PORT", help="ask this DNS server instead of the configured source")
    r.add_argument("--timeout", type=float, default=5.0)
    r.set_defaults(func=cmd_realm)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def cmd_realm(args: argparse.Namespace) -> int:
    from tsunagaru.anp.wiring import build_source
    from tsunagaru.doctor.realm import DoctorSetup, diagnose

    path = args.config or args.state / "anp.toml"
    try:
        cfg = load(path)
    except ConfigError as exc:
        print(f"doctor: need the ANP configuration for our certificate and trust roots: {exc}", file=sys.stderr)
        return 2
    if args.nameserver:
        try:  # host, host:port, [v6]:port or a bare v6 address such as ::1
            server = hostport(args.nameserver, "--nameserver", 53)
        except ConfigError as exc:
            print(f"doctor: {exc}", file=sys.stderr)
            return 2
        cfg = replace(cfg, discovery=DiscoveryConfig(nameservers=(server,)))
    if cfg.tls.certificate is None or cfg.tls.key is None or not cfg.tls.roots:
        print("doctor: the configuration has no [tls] certificate, key and roots", file=sys.stderr)
        return 2
    setup = DoctorSetup(build_source(cfg), cfg.tls.certificate, cfg.tls.key, cfg.tls.roots, cfg.tls.crls, args.timeout)
    report = asyncio.run(diagnose(args.realm, setup))
    print(report.to_json() if args.json else report.to_text())
    return report.exit_code()
