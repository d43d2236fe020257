"""The RadSec session, its tracker and the reply cache compiled with mypyc pass their tests.

These three held generic dataclasses, which fail at import once compiled ("attribute '__dict__' of
'type' objects is not writable"), so setup.py left them out of the ANP's compiled per-request path.
They are plain generic classes now; this builds them (opt level 0, a copy of the package in a temporary
folder, as ``tests/radius/test_mypyc.py`` does) and runs their tests against the compiled copy.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mypyc import build_compiled

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["src/tsunagaru/net/replay.py", "src/tsunagaru/radsec/tracker.py", "src/tsunagaru/radsec/session.py"]
TESTS = ["tests/radsec/test_session.py", "tests/radsec/test_timers.py", "tests/net/test_schedule.py"]


def test_setup_compiles_them() -> None:
    listed = runpy.run_path(str(ROOT / "setup.py"))["MYPYC_MODULES"]
    assert set(MODULES) <= set(listed)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_compiled(tmp_path_factory.mktemp("mypyc-radsec"), MODULES)


def test_their_tests_pass_compiled(compiled: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(compiled)}
    probe = subprocess.run([sys.executable, "-c", "import tsunagaru.net.replay as r, tsunagaru.radsec.tracker as t, "
                            "tsunagaru.radsec.session as s; print(r.__file__, t.__file__, s.__file__)"],
                           env=env, capture_output=True, text=True, timeout=60, check=False)
    assert probe.returncode == 0, probe.stderr[-2000:]  # before: the import failed on the generic dataclasses
    assert all(name.endswith(".so") for name in probe.stdout.split()), probe.stdout
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout
