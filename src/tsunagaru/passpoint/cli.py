"""`tsunagaru passpoint example|render|lint|rcoi`: the AP side of Passpoint on files.

``render`` reads an AP description (TOML, see ``example``) and prints hostapd.conf, OpenWrt UCI or JSON;
``lint`` checks any hostapd.conf and exits 1 when it finds an error; ``rcoi`` decodes and encodes
OpenRoaming RCOIs like the WBA calculator. The clock is read here (the adapter), never in the pure parts.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from tsunagaru.passpoint.description import DescriptionError, parse_description
from tsunagaru.passpoint.model import DisasterState, ModelError
from tsunagaru.passpoint.rcoi import IdentityType, OpenRoamingRcoi, RcoiError, Settlement, Tier, parse_rcoi

DISASTER_DEFAULT = datetime.timedelta(hours=72)  # MIC: open within 72 h; an operator ends it earlier


def register(sub: Any) -> None:
    p = sub.add_parser("passpoint", help="Passpoint on access points: render, lint, RCOIs")
    pp = p.add_subparsers(dest="passpoint_command", metavar="ACTION")
    ex = pp.add_parser("example", help="print an annotated AP description (TOML) that render accepts")
    ex.set_defaults(func=cmd_example)
    r = pp.add_parser("render", help="render an AP description as hostapd.conf, OpenWrt UCI or JSON")
    r.add_argument("file", type=Path)
    r.add_argument("--format", choices=("hostapd", "openwrt", "json"), default="hostapd")
    r.add_argument("--disaster", action="store_true", help="add 00000JAPAN as a secondary BSS on every radio")
    r.add_argument("--until", help="with --disaster: end time (ISO 8601; default [disaster].until or now + 72 h)")
    r.add_argument("--now", help="render as of this time (ISO 8601, default: the clock)")
    r.add_argument("--radio", help="hostapd: only this radio's file")
    r.add_argument("--out", type=Path, help="write the file(s) into this folder (0600) instead of printing")
    r.set_defaults(func=cmd_render)
    lint = pp.add_parser("lint", help="check a hostapd.conf for Passpoint mistakes; exit 1 on errors")
    lint.add_argument("file", help="a hostapd.conf, or - for standard input")
    lint.add_argument("--json", action="store_true")
    lint.set_defaults(func=cmd_lint)
    rc = pp.add_parser("rcoi", help="decode or encode an OpenRoaming RCOI")
    rcs = rc.add_subparsers(dest="rcoi_command", metavar="ACTION")
    dec = rcs.add_parser("decode", help="the policy fields of an RCOI in words")
    dec.add_argument("value")
    dec.add_argument("--json", action="store_true")
    dec.set_defaults(func=cmd_decode)
    enc = rcs.add_parser("encode", help="build an OpenRoaming RCOI from its policy fields")
    enc.add_argument("--settlement", choices=("free", "settled"), default="free")
    enc.add_argument("--tier", choices=[t.value for t in Tier], default="bronze")
    enc.add_argument("--id-type", choices=[t.name.lower().replace("_", "-") for t in IdentityType], default="all")
    enc.add_argument("--users-identified", action="store_true")
    enc.add_argument("--enhanced-proofing", action="store_true")
    enc.add_argument("--short-lived", action="store_true")
    enc.add_argument("--case", choices=("upper", "lower"), default="upper")
    enc.set_defaults(func=cmd_encode)
    for parser, _command in ((p, "passpoint"), (rc, "rcoi")):
        parser.set_defaults(func=lambda a, parser=parser: (parser.print_help(), 2)[1])


def cmd_example(args: argparse.Namespace) -> int:
    sys.stdout.write(resources.files("tsunagaru.passpoint").joinpath("example.toml").read_text(encoding="utf-8"))
    return 0


def _time(text: str | None, what: str) -> datetime.datetime:
    if text is None:
        return datetime.datetime.now(datetime.UTC)
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise DescriptionError(what, f"{text!r} is not an ISO 8601 time") from None
    if value.tzinfo is None:
        raise DescriptionError(what, "needs a time zone (Z or +09:00)")
    return value.astimezone(datetime.UTC)


def cmd_render(args: argparse.Namespace) -> int:
    from tsunagaru.passpoint.plan import plan_ap
    from tsunagaru.passpoint.render.hostapd import render_hostapd
    from tsunagaru.passpoint.render.json import render_json
    from tsunagaru.passpoint.render.openwrt import render_openwrt
    from tsunagaru.passpoint.render.sections import RenderError

    try:
        desc = parse_description(args.file.read_text(encoding="utf-8"))
        now = _time(args.now, "--now")
        disaster = DisasterState()
        if args.disaster:
            until = _time(args.until, "--until") if args.until else desc.disaster.until or now + DISASTER_DEFAULT
            disaster = DisasterState(until, desc.disaster.reason, desc.disaster.incident_id, desc.disaster.owe)
        plan = plan_ap(desc.operator, desc.site, desc.ap, disaster, now)
        if args.format == "hostapd":
            files = render_hostapd(plan, desc.secrets)
            if args.radio:
                files = {k: v for k, v in files.items() if k == f"hostapd-{args.radio}.conf"}
                if not files:
                    raise DescriptionError("--radio", f"no radio named {args.radio!r}")
        else:
            name = "wireless" if args.format == "openwrt" else f"{desc.ap.id}.json"
            files = {name: (render_openwrt if args.format == "openwrt" else render_json)(plan, desc.secrets)}
    except OSError as exc:
        print(f"passpoint: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"passpoint: {args.file}: not UTF-8 text", file=sys.stderr)
        return 2
    except (ModelError, RenderError) as exc:
        print(f"passpoint: {args.file}: {exc}", file=sys.stderr)
        return 2
    return _emit(files, args.out)


def _emit(files: dict[str, bytes], out: Path | None) -> int:
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():  # they hold the RADIUS secret: 0600 from the first byte
            fd = os.open(out / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            print(out / name)
        return 0
    for i, (name, data) in enumerate(files.items()):
        if len(files) > 1:
            sys.stdout.write(("\n" if i else "") + f"# ==> {name} <==\n")
        sys.stdout.write(data.decode())
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    from tsunagaru.passpoint.lint import lint_hostapd

    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        print(f"passpoint: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    report = lint_hostapd(text)
    if args.json:
        print(json.dumps({"file": args.file, "partial": report.partial, "findings": [
            {"line": f.line, "code": f.code, "name": f.rule.name, "severity": f.severity.value, "bss": f.bss,
             "message": f.message, "source": f.rule.source} for f in report.findings]}, ensure_ascii=False, indent=2))
    else:
        for f in report.findings:
            print(f.text(args.file))
        errors, warnings = len(report.errors), len(report.findings) - len(report.errors)
        print(f"{args.file}: {errors} error(s), {warnings} warning(s)" + (" (partial)" if report.partial else ""))
    return 1 if report.errors else 0


def cmd_decode(args: argparse.Namespace) -> int:
    try:
        rcoi = parse_rcoi(args.value)
    except RcoiError as exc:
        print(f"passpoint: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"rcoi": rcoi.hex(), "openroaming": isinstance(rcoi, OpenRoamingRcoi),
                          "fields": rcoi.words()}, indent=2))
    else:
        print(rcoi.hex())
        for word in rcoi.words():
            print(f"  {word}")
    return 0


def cmd_encode(args: argparse.Namespace) -> int:
    rcoi = OpenRoamingRcoi(
        settlement=Settlement.SETTLEMENT_FREE if args.settlement == "free" else Settlement.SETTLED,
        tier=Tier(args.tier), users_identified=args.users_identified, enhanced_proofing=args.enhanced_proofing,
        identity_type=IdentityType[args.id_type.upper().replace("-", "_")], short_lived=args.short_lived,
    )
    print(rcoi.hex(args.case))
    return 0
