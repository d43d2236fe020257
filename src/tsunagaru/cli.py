"""The `tsunagaru` command.

Each part of the system registers its own subcommands: a module named in ``COMMAND_MODULES`` exposes
``register(subparsers)`` and sets ``func`` on its parsers. Keeping the table here (not scattered imports)
lets a reader see every command the tool has on one screen. ``COMMANDS`` says which module holds each
top-level command, so that ``tsunagaru anp run`` imports the ANP's module only, not the web app's
(FastAPI and SQLAlchemy's ORM: 3 s of CPU on a busy box, for every ANP and IdP start).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tsunagaru import __version__

COMMAND_MODULES = (
    "tsunagaru.radius.cli",
    "tsunagaru.pki.cli",
    "tsunagaru.doctor.cli",
    "tsunagaru.anp.cli",
    "tsunagaru.idp.cli",
    "tsunagaru.serve",
    "tsunagaru.demo",
    "tsunagaru.passpoint.cli",
    "tsunagaru.store.cli",
    "tsunagaru.sites.cli",
    "tsunagaru.web.cli",
    "tsunagaru.agent.cli",
    "tsunagaru.config_reference",
)
COMMANDS = {"radius": "tsunagaru.radius.cli", "pki": "tsunagaru.pki.cli", "doctor": "tsunagaru.doctor.cli",
            "anp": "tsunagaru.anp.cli", "idp": "tsunagaru.idp.cli", "serve": "tsunagaru.serve",
            "demo": "tsunagaru.demo", "passpoint": "tsunagaru.passpoint.cli", "db": "tsunagaru.store.cli",
            "sites": "tsunagaru.sites.cli", "aps": "tsunagaru.sites.cli", "web": "tsunagaru.web.cli",
            "ap": "tsunagaru.agent.cli", "config": "tsunagaru.config_reference"}


def _modules(argv: Sequence[str] | None) -> Sequence[str]:
    """The module of the command named first in ``argv``, or all of them (help, an unknown command)."""
    words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
    name = COMMANDS.get(words[0]) if words else None
    return (name,) if name is not None else COMMAND_MODULES


def build_parser(argv: Sequence[str] | None = None, *, every: bool = True) -> argparse.ArgumentParser:
    """The parser with every command (``every``) or only the one ``argv`` names."""
    parser = argparse.ArgumentParser(prog="tsunagaru", description="OpenRoaming platform for public Wi-Fi.")
    parser.add_argument("--version", action="version", version=f"tsunagaru {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES if every else _modules(argv):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            # Parts not built yet are skipped; a missing dependency inside an existing module is an error.
            if not (exc.name and name.startswith(exc.name)):
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv, every=False)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    result = func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
