"""Build some of the package's modules with mypyc in a temporary copy, for the tests that run on them.

setup.py's mypycify call, but only the given modules and mypyc's lowest optimisation level, to keep
the suite's cost small; the checkout itself stays pure Python, which the rest of the suite tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = """
import os
from setuptools import setup
from mypyc.build import mypycify
modules = os.environ["MYPYC_TEST_MODULES"].split()
setup(name="tsunagaru-mypyc-test", ext_modules=mypycify(modules, opt_level="0", debug_level="0"),
      package_dir={"": "src"}, packages=[])
"""


def build_compiled(work: Path, modules: list[str]) -> Path:
    """Copy the package into ``work``, compile ``modules`` (paths as setup.py lists them) in place there,
    and return the ``src`` folder to put on PYTHONPATH. Fails (asserts) when the build fails."""
    shutil.copytree(ROOT / "src" / "tsunagaru", work / "src" / "tsunagaru",
                    ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    (work / "build_it.py").write_text(BUILD)
    env = {**os.environ, "MYPYC_TEST_MODULES": " ".join(modules)}
    done = subprocess.run([sys.executable, "build_it.py", "build_ext", "--inplace"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return work / "src"
