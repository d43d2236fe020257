"""The `tsunagaru` command.

Each part of the system registers its own subcommands: a module named in ``COMMAND_MODULES`` exposes
``register(subparsers)`` and sets ``func`` on its parsers. Keeping the table here (not scattered imports)
lets a reader see every command the tool has on one screen.
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tsunagaru", description="OpenRoaming platform for public Wi-Fi.")
    parser.add_argument("--version", action="version", version=f"tsunagaru {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
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
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    result = func(args)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
