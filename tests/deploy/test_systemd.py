"""The shipped systemd units are valid for systemd itself (``systemd-analyze verify``).

The units name ``/opt/tsunagaru/.venv/bin/tsunagaru``; the test points them at this checkout's command so that
systemd also checks that the ExecStart programs exist and are executable.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"


def test_units_verify(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing (Debian package systemd)"
    command = Path(sys.executable).with_name("tsunagaru")
    assert command.exists(), command
    names = sorted(p.name for p in UNITS.glob("*.service"))
    assert names == ["tsunagaru-anp.service", "tsunagaru-idp.service", "tsunagaru-web.service"]
    for name in names:
        text = (UNITS / name).read_text().replace("/opt/tsunagaru/.venv/bin/tsunagaru", str(command))
        (tmp_path / name).write_text(text)
    done = subprocess.run([analyze, "verify", *(str(tmp_path / n) for n in names)],
                          capture_output=True, text=True, timeout=60)
    # verify prints problems on stderr; a clean run prints nothing about our units
    problems = [line for line in done.stderr.splitlines() if "tsunagaru-" in line]
    assert done.returncode == 0 and not problems, done.stderr


@pytest.mark.parametrize("name", ["tsunagaru-anp.service", "tsunagaru-idp.service", "tsunagaru-web.service"])
def test_units_are_sandboxed(name: str) -> None:
    text = (UNITS / name).read_text()
    for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                   "UMask=0077", "CapabilityBoundingSet=", "StateDirectoryMode=0700"):
        assert option in text.splitlines(), option


@pytest.mark.parametrize("part", ["anp", "idp", "web"])
def test_every_variable_in_execstart_has_a_default_and_an_example(part: str) -> None:
    """An install without /etc/tsunagaru/PART.env still starts (defaults in the unit); the shipped example
    sets only variables the unit uses."""
    import re

    text = (UNITS / f"tsunagaru-{part}.service").read_text()
    used = set(re.findall(r"\$\{(\w+)\}", next(line for line in text.splitlines() if line.startswith("ExecStart="))))
    defaults = {pair.split("=", 1)[0] for line in text.splitlines() if line.startswith("Environment=")
                for pair in line.removeprefix("Environment=").split()}
    assert used and used <= defaults
    assert f"EnvironmentFile=-/etc/tsunagaru/{part}.env" in text.splitlines()
    example = (UNITS.parent / "env" / f"{part}.env").read_text().splitlines()
    assert {line.split("=", 1)[0] for line in example if line and not line.startswith("#")} <= used
