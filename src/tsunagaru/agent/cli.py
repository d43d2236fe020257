"""``tsunagaru ap agent --url URL --token-file FILE --config PATH [...]`` and ``python -m tsunagaru.agent``.

The token file holds the AP's token (or a line ``AP_ID TOKEN``, as in the demo's ap-tokens.txt); it
must not be readable by others. Everything else is an option, so the agent needs no config file.
"""

from __future__ import annotations

import argparse
import logging
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tsunagaru.agent.agent import Agent, AgentSettings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True, help="the platform, e.g. https://wifi.city.example")
    p.add_argument("--token-file", type=Path, required=True, help="the AP's token (or 'AP_ID TOKEN')")
    p.add_argument("--ap-id", type=int, help="the AP's id (when the token file holds only the token)")
    p.add_argument("--config", type=Path, required=True, help="where to write the config (hostapd.conf ...)")
    p.add_argument("--state-dir", type=Path, help="state and the last good config (default: beside --config)")
    p.add_argument("--format", choices=["hostapd", "openwrt", "json"], default="hostapd")
    p.add_argument("--radio", help="which radio's hostapd.conf (default: the first)")
    p.add_argument("--pid-file", type=Path, help="hostapd's pid file: reload with SIGHUP")
    p.add_argument("--ctrl", type=Path, help="hostapd's control socket (/var/run/hostapd/wlan0): RELOAD, STATUS")
    p.add_argument("--reload-command", help="a command that reloads instead (OpenWrt: 'wifi reload')")
    p.add_argument("--hostapd", default="hostapd", help="hostapd binary that checks a config first ('' to skip)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="local hostapd key (repeatable)")
    p.add_argument("--unset", action="append", default=[], metavar="KEY", help="drop a hostapd key (repeatable)")
    p.add_argument("--interval", type=float, default=60.0)
    p.add_argument("--jitter", type=float, default=0.2, help="fraction of the interval (0.2: +/-20%%)")
    p.add_argument("--once", action="store_true", help="one cycle, then exit (0 applied/unchanged, 1 otherwise)")
    p.add_argument("--max-cycles", type=int, help="stop after this many cycles")
    p.add_argument("--log-level", default="info")


def register(subparsers: Any) -> None:
    ap = subparsers.add_parser("ap", help="the access point side")
    sub = ap.add_subparsers(dest="ap_command", metavar="SUBCOMMAND", required=True)
    agent = sub.add_parser("agent", help="pull the AP's config, apply it, report (stdlib only)")
    add_arguments(agent)
    agent.set_defaults(func=run)


def read_token(path: Path) -> tuple[int | None, str]:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"{path} is readable by others (chmod 600 it)")
    words = path.read_text().split()
    if len(words) == 1:
        return None, words[0]
    if len(words) == 2 and words[0].isdigit():
        return int(words[0]), words[1]
    raise ValueError(f"{path} must hold a token or 'AP_ID TOKEN'")


def settings_from(args: argparse.Namespace) -> AgentSettings:
    file_id, token = read_token(args.token_file)
    ap_id = args.ap_id or file_id
    if ap_id is None:
        raise ValueError("give --ap-id (the token file holds no id)")
    pairs = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {item!r}: use KEY=VALUE")
        pairs[key] = value
    return AgentSettings(
        url=args.url, ap_id=ap_id, token=token, config_path=args.config,
        state_dir=args.state_dir or args.config.parent / f".{args.config.name}.agent", fmt=args.format,
        radio=args.radio, pid_file=args.pid_file, ctrl=args.ctrl,
        reload_command=args.reload_command.split() if args.reload_command else None, interval=args.interval,
        jitter=max(0.0, min(args.jitter, 0.9)), hostapd=args.hostapd or None, set_keys=pairs,
        unset_keys=frozenset(args.unset))


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        settings = settings_from(args)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.umask(0o077)
    agent = Agent(settings)
    if args.once:
        return 0 if agent.cycle() in ("applied", "unchanged") else 1
    try:
        agent.run(args.max_cycles)
    except KeyboardInterrupt:
        return 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tsunagaru-agent", description="Tsunagaru AP agent")
    add_arguments(parser)
    return run(parser.parse_args(argv))
