"""The one private-file writer: 0600 from the first byte, exclusive temp file, atomic rename, 0700 folders."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from tsunagaru.pki.pem import write_file
from tsunagaru.secretfile import create_private, private_dir, read_or_create_key, write_private, write_public


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> object:
    old = os.umask(0)
    yield None
    os.umask(old)


def test_private_file_is_0600_and_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "k.key"
    target.write_bytes(b"old")
    os.chmod(target, 0o644)
    write_private(target, b"new secret")
    assert target.read_bytes() == b"new secret" and _mode(target) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["k.key"]  # no temp file left behind


def test_a_stale_temp_file_does_not_lend_its_mode(tmp_path: Path) -> None:
    """Review 17: pem.write_file reused ``.NAME.tmp`` (0644 if it existed) for a new private key."""
    stale = tmp_path / ".member.key.tmp"
    stale.write_bytes(b"x")
    os.chmod(stale, 0o644)
    write_file(tmp_path / "member.key", b"KEY", private=True)
    assert _mode(tmp_path / "member.key") == 0o600
    assert stale.read_bytes() == b"x"  # never opened


def test_mode_is_set_before_the_first_byte(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    real_write = os.write

    def spy(fd: int, data: object) -> int:
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "write", spy)
    write_private(tmp_path / "a", b"secret")
    assert seen and set(seen) == {0o600}


def test_public_files_and_folders(tmp_path: Path) -> None:
    write_public(tmp_path / "c.pem", b"cert")
    assert _mode(tmp_path / "c.pem") == 0o644
    folder = tmp_path / "state"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    assert _mode(private_dir(folder)) == 0o700
    assert _mode(private_dir(tmp_path / "new" / "deep")) == 0o700


def test_create_private_before_sqlite(tmp_path: Path) -> None:
    db = create_private(tmp_path / "x.sqlite")
    assert db.stat().st_size == 0 and _mode(db) == 0o600
    db.write_bytes(b"data")
    os.chmod(db, 0o644)
    create_private(db)  # an existing file keeps its bytes, loses the group/other bits
    assert db.read_bytes() == b"data" and _mode(db) == 0o600


def test_one_key_per_installation_even_when_raced(tmp_path: Path) -> None:
    keys: list[bytes] = []
    threads = [threading.Thread(target=lambda: keys.append(read_or_create_key(tmp_path / "log.key")))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 32
    assert _mode(tmp_path / "log.key") == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["log.key"]
