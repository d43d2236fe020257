"""The radius codec compiled with mypyc (as ``TSUNAGARU_MYPYC=1`` builds it) passes the radius tests.

The build runs on a copy of the package in a temporary folder (``tests.support.mypyc``: the checkout stays
pure Python), only the radius modules, at mypyc's lowest optimisation level, to keep the suite's cost small
(on 2 loaded cores: about 30-60 s wall, 10 s CPU). The tests then run in a subprocess whose ``tsunagaru`` is
the compiled copy; a missing C compiler fails the test (gcc and python3-dev are in scripts/install-deps.sh),
it does not skip.
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
COMPILED = [m for m in runpy.run_path(str(ROOT / "setup.py"))["MYPYC_MODULES"] if "/radius/" in m]
TESTS = ["tests/radius/test_rfc_vectors.py", "tests/radius/test_hiding_and_auth.py", "tests/radius/test_properties.py"]


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_compiled(tmp_path_factory.mktemp("mypyc"), COMPILED)


def test_setup_lists_modules_that_exist() -> None:
    modules = runpy.run_path(str(ROOT / "setup.py"))["MYPYC_MODULES"]
    assert modules and all((ROOT / m).is_file() for m in modules)
    assert len(COMPILED) >= 5


def test_the_radius_tests_pass_on_the_compiled_codec(compiled: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(compiled)}
    probe = subprocess.run([sys.executable, "-c", "import tsunagaru.radius.packet as p, tsunagaru.radius.auth as a; "
                            "print(p.__file__); print(a.__file__)"], env=env, capture_output=True, text=True,
                           timeout=60, check=True)
    assert all(line.endswith(".so") for line in probe.stdout.split()), probe.stdout
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout
