"""``tsunagaru db``: the database schema (``db upgrade``, ``db current``)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tsunagaru.store.engine import default_url, make_engine


def register(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="database schema migrations (Alembic)")
    sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = sub.add_parser("upgrade", help="migrate the database to the newest schema (or --revision)")
    up.add_argument("--db", help="database URL (default $TSUNAGARU_DB or sqlite:///./tsunagaru-idp.sqlite)")
    up.add_argument("--revision", default="head")
    up.set_defaults(func=_upgrade)
    cur = sub.add_parser("current", help="print the revision the database is at and the newest one")
    cur.add_argument("--db")
    cur.set_defaults(func=_current)


def _upgrade(args: argparse.Namespace) -> int:
    from tsunagaru.store.migrate import upgrade

    try:
        engine = make_engine(args.db or default_url())
        try:
            revision = upgrade(engine, args.revision)
        finally:
            engine.dispose()
    except Exception as exc:  # one clear line, not a traceback, whatever failed
        print(f"error: database upgrade failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"database at revision {revision}")
    return 0


def _current(args: argparse.Namespace) -> int:
    from tsunagaru.store.migrate import current, head

    try:
        engine = make_engine(args.db or default_url())
        try:
            at = current(engine)
        finally:
            engine.dispose()
    except Exception as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"current {at or '(empty)'}, newest {head()}")
    return 0 if at == head() else 3
