"""`tsunagaru idp ...`: manage the IdP's users and their certificates from a shell.

Every command opens the store at ``--db`` (default ``$TSUNAGARU_DB``, else a SQLite file here) and,
where certificates are involved, the user CA in ``--state`` (default ``$TSUNAGARU_STATE``, else
``./tsunagaru-idp``). ``idp serve`` belongs to the IdP service: a module in ``IDP_COMMAND_MODULES``
adds it. Passwords are read from a prompt (``getpass``, asked twice) or the first line of stdin
(``--password-stdin``), never from an argument: arguments are visible to other local users in ``ps``.
Files that hold secrets (the database, the user CA's key, PKCS#12) are 0600 from their first byte.
"""

from __future__ import annotations

import argparse
import getpass
import importlib
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

from sqlalchemy.orm import Session

from tsunagaru.idp import users
from tsunagaru.idp.user_ca import UserCA, UserCAError
from tsunagaru.secretfile import write_private
from tsunagaru.store import DEFAULT_URL, Store, StoreError, default_url

ENV_STATE = "TSUNAGARU_STATE"
DEFAULT_STATE = "./tsunagaru-idp"
DEFAULT_CERT_DAYS = 365
# Modules exposing register(idp_subparsers) for more `idp` subcommands.
IDP_COMMAND_MODULES = ("tsunagaru.idp.serve",)

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class CliError(Exception):
    """A problem with what was typed; reported on stderr with exit status 1."""


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", metavar="URL", help=f"database URL (default $TSUNAGARU_DB or {DEFAULT_URL})")
    common.add_argument("--state", metavar="DIR", type=Path, help="state folder holding the user CA")
    return common


def _password_options(parser: argparse.ArgumentParser, *, optional: bool) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--password", metavar="P", help=argparse.SUPPRESS)  # refused: see _read_password
    group.add_argument(
        "--password-stdin", action="store_true", help="read the password's first line from stdin"
    )
    if optional:
        group.add_argument("--ask-password", action="store_true",
                           help="ask for the password at a prompt (without this or --password-stdin: none)")


def register(subparsers: Subparsers) -> None:
    """Add ``idp user ...`` and ``idp cert ...`` to the ``tsunagaru`` command."""
    common = _common()
    idp = subparsers.add_parser("idp", help="the identity provider: users, certificates")
    idp_sub = idp.add_subparsers(dest="idp_command", metavar="COMMAND")
    idp.set_defaults(func=_help(idp))

    user = idp_sub.add_parser("user", help="add, list, disable, enable users; revoke their certificates")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION")
    user.set_defaults(func=_help(user))

    add = user_sub.add_parser("add", parents=[common], help="add a user (USER@REALM, or USER with --realm)")
    add.add_argument("username", metavar="USER")
    _password_options(add, optional=True)
    add.add_argument("--mschapv2", action="store_true", help="allow MSCHAPv2 (keeps a password equivalent)")
    add.add_argument("--realm", metavar="R")
    add.set_defaults(func=_cmd_user_add)

    listing = user_sub.add_parser("list", parents=[common], help="list users")
    listing.add_argument("--json", action="store_true", help="one JSON array on stdout")
    listing.set_defaults(func=_cmd_user_list)

    for name, func, text in (
        ("disable", _cmd_user_disable, "refuse the user every method"),
        ("enable", _cmd_user_enable, "let a disabled user log in again"),
        ("revoke", _cmd_user_revoke, "revoke all of the user's certificates"),
    ):
        action = user_sub.add_parser(name, parents=[common], help=text)
        action.add_argument("username", metavar="USER")
        action.set_defaults(func=func)

    passwd = user_sub.add_parser("set-password", parents=[common], help="replace a user's password")
    passwd.add_argument("username", metavar="USER")
    _password_options(passwd, optional=False)
    passwd.add_argument("--mschapv2", action=argparse.BooleanOptionalAction, default=None)
    passwd.set_defaults(func=_cmd_user_set_password)

    cert = idp_sub.add_parser("cert", help="EAP-TLS client certificates from the user CA")
    cert_sub = cert.add_subparsers(dest="cert_command", metavar="ACTION")
    cert.set_defaults(func=_help(cert))
    issue = cert_sub.add_parser("issue", parents=[common], help="issue a certificate as PKCS#12, no password")
    issue.add_argument("username", metavar="USER")
    issue.add_argument("--p12", metavar="FILE", type=Path, required=True)
    issue.add_argument("--days", type=int, default=DEFAULT_CERT_DAYS)
    issue.set_defaults(func=_cmd_cert_issue)
    _register_more(idp_sub)


def _register_more(idp_sub: Subparsers) -> None:
    """Let other IdP modules add their own ``idp`` subcommands (``idp serve``, ``idp check-config``)."""
    for name in IDP_COMMAND_MODULES:
        importlib.import_module(name).register(idp_sub)


def _help(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], int]:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


# An action runs inside one transaction; what it returns (if anything) runs after the commit.
Action: TypeAlias = Callable[[argparse.Namespace, Session, datetime], Callable[[], None] | None]


def _run(args: argparse.Namespace, action: Action) -> int:
    """Open the store, run ``action`` in one transaction, and turn expected errors into exit status 1."""
    try:
        store = Store.open(args.db or default_url())
        try:
            with store.session() as session:
                after_commit = action(args, session, datetime.now(UTC))
        finally:
            store.dispose()
        if after_commit is not None:
            after_commit()
    except (CliError, users.UserError, UserCAError, StoreError, OSError) as exc:
        print(f"tsunagaru idp: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _read_password(args: argparse.Namespace, *, prompt: bool) -> str | None:
    """The password from stdin (``--password-stdin``) or a prompt; None when ``prompt`` is off and none
    was asked for. ``--password P`` is refused: ``ps`` shows arguments to every local user."""
    if args.password is not None:
        raise CliError("--password is not accepted (other users see it in ps): "
                       "use --password-stdin or the prompt")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif prompt or getattr(args, "ask_password", False):
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CliError("the two passwords differ")
    else:
        return None
    if not password:
        raise CliError("empty password")
    return password


def _cmd_user_add(args: argparse.Namespace) -> int:
    def action(args: argparse.Namespace, session: Session, now: datetime) -> None:
        info = users.add_user(
            session,
            args.username,
            now=now,
            password=_read_password(args, prompt=False),
            realm=args.realm,
            mschapv2=args.mschapv2,
        )
        print(f"added {info.nai} (mschapv2 {'on' if info.mschapv2 else 'off'})")

    return _run(args, action)


def _cmd_user_list(args: argparse.Namespace) -> int:
    def action(args: argparse.Namespace, session: Session, now: datetime) -> None:
        found = users.list_users(session)
        if args.json:
            print(json.dumps([info.to_json() for info in found], indent=2))
            return
        print(f"{'USER':40} {'ENABLED':8} {'PASSWORD':9} {'MSCHAPV2':9} CERTS")
        for info in found:
            flags = (_yes(info.enabled), _yes(info.has_password), _yes(info.mschapv2))
            print(f"{info.nai:40} {flags[0]:8} {flags[1]:9} {flags[2]:9} {info.active_certificates}")

    return _run(args, action)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _cmd_user_disable(args: argparse.Namespace) -> int:
    def action(args: argparse.Namespace, session: Session, now: datetime) -> None:
        print(f"disabled {users.disable_user(session, args.username, now=now).nai}")

    return _run(args, action)


def _cmd_user_enable(args: argparse.Namespace) -> int:
    def action(args: argparse.Namespace, session: Session, now: datetime) -> None:
        print(f"enabled {users.enable_user(session, args.username, now=now).nai}")

    return _run(args, action)


def _cmd_user_revoke(args: argparse.Namespace) -> int:
    def action(args: argparse.Namespace, session: Session, now: datetime) -> None:
        count = users.revoke_user_certificates(session, args.username, now=now)
        print(f"revoked {count} certificate(s) of {args.username}")

    return _run(args, action)


def _cmd_user_set_password(args: argparse.Namespace) -> int:
    def action(args: argparse.Namespace, session: Session, now: datetime) -> None:
        password = _read_password(args, prompt=True)
        assert password is not None
        info = users.set_password(session, args.username, password, now=now, mschapv2=args.mschapv2)
        print(f"password set for {info.nai} (mschapv2 {'on' if info.mschapv2 else 'off'})")

    return _run(args, action)


def _state_dir(args: argparse.Namespace) -> Path:
    return Path(args.state or os.environ.get(ENV_STATE) or DEFAULT_STATE)


def _cmd_cert_issue(args: argparse.Namespace) -> int:
    def action(args: argparse.Namespace, session: Session, now: datetime) -> Callable[[], None]:
        ca = UserCA.load_or_create(_state_dir(args), now=now)
        cert, key = users.issue_certificate(session, ca, args.username, days=args.days, now=now)
        subject = cert.subject.rfc4514_string()

        def write() -> None:  # only once the certificate is recorded: EAP-TLS accepts nothing else
            write_private(args.p12, ca.to_pkcs12(cert, key, name=subject))
            print(f"issued {subject} serial {users.certificate_serial(cert)} -> {args.p12}")

        return write

    return _run(args, action)
