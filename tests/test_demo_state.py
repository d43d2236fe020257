"""The demo's state folder: every secret 0600, every folder 0700, however permissive the umask (review 3, 17)."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

from tsunagaru.demo_state import DemoPorts, prepare

PUBLIC = {".pem", ".zone", ".json"}


def _modes(root: Path) -> tuple[dict[str, int], dict[str, int]]:
    files, folders = {}, {}
    for p in [root, *root.rglob("*")]:
        (folders if p.is_dir() else files)[str(p.relative_to(root))] = stat.S_IMODE(p.stat().st_mode)
    return files, folders


def test_demo_state_secrets_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        state = prepare(tmp_path / "state", datetime.now(UTC), DemoPorts())
        prepare(tmp_path / "state", datetime.now(UTC), DemoPorts())  # a second start rewrites some files
    finally:
        os.umask(old)
    files, folders = _modes(state.root)
    assert set(folders.values()) == {0o700}, folders
    secret = {n: m for n, m in files.items() if Path(n).suffix not in PUBLIC}
    assert {"cui.key", "log.key", "alice.key", "alice.p12", "idp.sqlite", "anp.toml", "eap-server.key",
            "ca.key", "anp.key", "idp-radsec.key", "federation/root.key"} <= set(secret)
    assert set(secret.values()) == {0o600}, secret
    assert all(m & 0o022 == 0 for m in files.values()), files
    assert len(state.path("log.key").read_bytes()) == 32
