"""The command table: each top-level command is found in the module ``COMMANDS`` names, and a command
imports only its own module (``tsunagaru anp run`` must not pay for the web app's imports)."""

from __future__ import annotations

import argparse
import subprocess
import sys

from tsunagaru import cli


def _choices(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


def test_every_command_is_in_the_table_with_its_module() -> None:
    assert _choices(cli.build_parser()) == set(cli.COMMANDS)
    assert set(cli.COMMANDS.values()) == set(cli.COMMAND_MODULES)
    for command, module in cli.COMMANDS.items():
        assert command in _choices(cli.build_parser([command, "--help"], every=False)), module


def test_an_unknown_command_or_help_lists_them_all() -> None:
    assert _choices(cli.build_parser(["nonsense"], every=False)) == set(cli.COMMANDS)
    assert _choices(cli.build_parser(["--help"], every=False)) == set(cli.COMMANDS)


def test_the_anp_command_does_not_import_the_web_app() -> None:
    code = ("import sys; from tsunagaru import cli; cli.build_parser(['anp', 'run'], every=False); "
            "print('fastapi' in sys.modules, 'tsunagaru.web.app' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split() == ["False", "False"]
