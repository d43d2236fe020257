"""The accounting spool is 0600 from its first byte (review 3), whatever the umask."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tsunagaru.anp.spool import AccountingSpool
from tsunagaru.radius import Code, Packet


def test_spool_files_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        spool = AccountingSpool(tmp_path / "spool.sqlite")
        p = Packet(Code.ACCOUNTING_REQUEST, 1, bytes(16), ((1, b"alice@idp.example"),))
        spool.put("ap", "idp.example", p, p.to_bytes(), now=1.0)
        modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in tmp_path.iterdir()}
        spool.close()
    finally:
        os.umask(old)
    assert modes and all(m == 0o600 for m in modes.values()), modes
