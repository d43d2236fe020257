"""Shared by the fuzz targets for configuration and zone files: libFuzzer arguments with a seed corpus.

libFuzzer writes new inputs into its corpus folder, so the shipped seeds are copied to a temporary one
(removed at exit) unless the command line names a corpus of its own.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path


def argv_with_seeds(argv: list[str], seeds: Path, max_len: int = 8192) -> list[str]:
    args = list(argv)
    if not any(a.startswith("-max_len=") for a in args):
        args.append(f"-max_len={max_len}")
    if not any(not a.startswith("-") for a in args[1:]):
        work = Path(tempfile.mkdtemp(prefix=f"fuzz-{seeds.name}-"))
        atexit.register(shutil.rmtree, work, True)
        for seed in seeds.iterdir():
            if seed.is_file():
                shutil.copy(seed, work)
        args.append(str(work))
    return args
