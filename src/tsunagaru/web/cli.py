"""``tsunagaru web serve --config web.toml`` (the app, the portal of ``[enrol]``, the jobs of ``[jobs]``)
and ``tsunagaru web user add ROLE USERNAME [--scope ...]``.

The user command is the way in for the first city admin (nobody can sign in to create one); its
password comes from a prompt, or from standard input with ``--password-stdin`` for scripts, never
from the command line (where ``ps`` and shell history would keep it).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tsunagaru.tomlconf import load_or_report


def register(subparsers: Any) -> None:
    web = subparsers.add_parser("web", help="the web app: dashboard, API, portal")
    sub = web.add_subparsers(dest="web_command", metavar="SUBCOMMAND", required=True)
    serve = sub.add_parser("serve", help="serve the web app")
    serve.add_argument("--config", type=Path, required=True, help="web.toml (see docs/web.md)")
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=run_serve)
    user = sub.add_parser("user", help="web accounts")
    usub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = usub.add_parser("add", help="add an account (the first city admin starts here)")
    add.add_argument("role", choices=["city-admin", "municipality-operator", "site-operator", "viewer", "auditor"])
    add.add_argument("username")
    add.add_argument("--scope", help="municipality code (municipality-operator) or organisation id (site-operator)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.add_argument("--config", type=Path, help="web.toml, for its database (else --db or $TSUNAGARU_DB)")
    add.add_argument("--db", help="SQLAlchemy URL of the store")
    add.set_defaults(func=run_user_add)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from tsunagaru import logs
    from tsunagaru.tomlconf import ConfigError
    from tsunagaru.web import config
    from tsunagaru.web.serving import assemble

    logs.setup(args.log_level)
    settings = load_or_report(config.load, args.config)
    if settings is None:
        return 2
    try:
        served = assemble(settings)  # the portal of [enrol], the jobs of [jobs]
    except ConfigError as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 2
    try:
        # X-Forwarded-For/-Proto only from web.trusted_proxies (none by default: a client could forge them)
        trusted = list(settings.trusted_proxies)
        uvicorn.run(served.app, host=settings.listen.host, port=settings.listen.port, log_level=args.log_level,
                    proxy_headers=bool(trusted), forwarded_allow_ips=trusted or None, server_header=False,
                    access_log=False)
    finally:
        served.close()
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the passwords differ")
    return first


def run_user_add(args: argparse.Namespace) -> int:
    from tsunagaru.sites.errors import RegistryError
    from tsunagaru.sites.scope import Principal, Role
    from tsunagaru.store import Store, default_url
    from tsunagaru.web import config, users

    url = args.db
    if url is None and args.config is not None:
        settings = load_or_report(config.parse_file, args.config)
        if settings is None:
            return 2
        url = settings.db_url
    role = Role(args.role)
    scope = args.scope
    try:
        org = int(scope) if role is Role.SITE_OPERATOR and scope is not None else None
        password = _read_password(args.password_stdin)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    muni = scope if role is Role.MUNICIPALITY_OPERATOR else None
    store = Store.open(url or default_url())
    operator = Principal(f"cli:{getpass.getuser()}", Role.CITY_ADMIN)
    try:
        with store.session() as db:
            view = users.create_user(db, operator, users.NewUser(args.username, password, role, muni, org),
                                     datetime.now(UTC))
    except RegistryError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    finally:
        store.dispose()
    print(f"added {view.role} {view.username} (id {view.id})")
    return 0
