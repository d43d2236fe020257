"""Files that hold secrets (keys, PKCS#12, the CUI and log keys, databases): owner-only from their first byte.

Why by hand: the standard library has the pieces (``os.open`` with ``O_EXCL``, ``fsync``, ``os.replace``) but
no one call that puts them together. A private file is written to an exclusive temporary file in the same
folder (a random name opened with ``O_CREAT | O_EXCL``, so a stale or planted file is never reused), its
mode set to 0600 before the first byte (``fchmod``, so the umask cannot widen it), flushed to disk, then
renamed over the target: a reader sees the old file or the whole new one, never a half-written or
world-readable secret. Folders that hold them are made 0700.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
PUBLIC_FILE = 0o644


def private_dir(path: Path | str) -> Path:
    """Make ``path`` (and missing parents) and leave it 0700; an existing folder is tightened to 0700."""
    folder = Path(path)
    folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o777 != PRIVATE_DIR:
        os.chmod(folder, PRIVATE_DIR)
    return folder


def write_private(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically, readable and writable by its owner only (0600)."""
    return _write(Path(path), data, PRIVATE_FILE)


def write_public(path: Path | str, data: bytes) -> Path:
    """Write ``data`` atomically with mode 0644 (certificates, CRLs: the same path, no secret)."""
    return _write(Path(path), data, PUBLIC_FILE)


def _write(path: Path, data: bytes, mode: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        os.fchmod(fd, mode)  # the umask only narrows O_CREAT's mode; fchmod makes it exactly this
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    os.close(fd)
    try:
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_dir(path.parent)
    return path


def create_private(path: Path | str) -> Path:
    """Create ``path`` empty and 0600 if it does not exist yet (before SQLite opens it); an existing
    file is left as it is except that a wider mode is narrowed to 0600."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), PRIVATE_FILE)
    except FileExistsError:
        if p.stat().st_mode & 0o077:
            os.chmod(p, PRIVATE_FILE)
        return p
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)
    return p


def read_or_create_key(path: Path | str, size: int = 32) -> bytes:
    """The random key in ``path``, made (``size`` octets, 0600) on first use: a per-installation secret."""
    p = Path(path)
    with contextlib.suppress(FileNotFoundError):
        return p.read_bytes()
    key = secrets.token_bytes(size)
    p.parent.mkdir(parents=True, exist_ok=True)
    temp = write_private(p.with_name(f".{p.name}.{secrets.token_hex(8)}.new"), key)
    try:
        os.link(temp, p)  # exclusive: two processes starting at once agree on one key
    except FileExistsError:
        key = p.read_bytes()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    return key


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
