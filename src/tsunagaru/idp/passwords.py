"""How the IdP keeps passwords: a slow salted hash for PAP, and an NT hash only where MSCHAPv2 needs it.

PAP (TTLS inner PAP) hands the IdP the password itself, so a scrypt hash is enough: a stolen database
then costs an attacker real work per guess. Parameters travel inside the stored string
(``scrypt$n=...,r=...,p=...$salt$hash``) so they can be raised later without breaking old hashes.

MSCHAPv2 never reveals the password: the IdP must compute the peer's response from the NT hash,
MD4(UTF-16LE(password)), unsalted and fast, and that hash alone is enough to log in as the user
(a password equivalent). Storing it weakens the user's protection to that of the database, so it is
kept only for users who opted in to MSCHAPv2, and dropped when they opt out.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

from tsunagaru.eap.md4 import md4

SCHEME = "scrypt"
DEFAULT_N = 2**14  # 16 MiB with r=8: tens of milliseconds per check
DEFAULT_R = 8
DEFAULT_P = 1
SALT_LEN = 16
HASH_LEN = 32
_MAX_N = 2**20  # refuse absurd stored parameters rather than exhaust memory


class PasswordHashError(ValueError):
    """A stored password hash is not one this code can read."""


@dataclass(frozen=True, slots=True)
class ScryptParams:
    n: int = DEFAULT_N
    r: int = DEFAULT_R
    p: int = DEFAULT_P


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _as_bytes(password: str | bytes) -> bytes:
    return password.encode("utf-8") if isinstance(password, str) else password


def _scrypt(password: bytes, salt: bytes, params: ScryptParams, length: int) -> bytes:
    maxmem = 128 * params.r * (params.n + params.p + 2) + 1024 * 1024
    return hashlib.scrypt(
        password, salt=salt, n=params.n, r=params.r, p=params.p, maxmem=maxmem, dklen=length
    )


def hash_password(
    password: str | bytes, params: ScryptParams | None = None, *, salt: bytes | None = None
) -> str:
    """A storable scrypt hash of ``password`` (UTF-8 when given as text), with a fresh random salt."""
    params = params or ScryptParams()
    salt = os.urandom(SALT_LEN) if salt is None else salt
    digest = _scrypt(_as_bytes(password), salt, params, HASH_LEN)
    return f"{SCHEME}$n={params.n},r={params.r},p={params.p}${_b64(salt)}${_b64(digest)}"


def _parse(stored: str) -> tuple[ScryptParams, bytes, bytes]:
    try:
        scheme, param_text, salt_text, digest_text = stored.split("$")
        fields = dict(item.split("=", 1) for item in param_text.split(","))
        params = ScryptParams(n=int(fields["n"]), r=int(fields["r"]), p=int(fields["p"]))
        salt, digest = _unb64(salt_text), _unb64(digest_text)
    except (ValueError, KeyError) as exc:
        raise PasswordHashError("unreadable password hash") from exc
    if scheme != SCHEME or not 1 < params.n <= _MAX_N or params.n & (params.n - 1) or not digest:
        raise PasswordHashError("unsupported password hash parameters")
    return params, salt, digest


def verify_password(password: str | bytes, stored: str) -> bool:
    """True when ``password`` matches ``stored``; the final comparison takes constant time."""
    params, salt, digest = _parse(stored)
    candidate = _scrypt(_as_bytes(password), salt, params, len(digest))
    return hmac.compare_digest(candidate, digest)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(b"", salt=b"\x00" * SALT_LEN)


def burn_time(password: str | bytes) -> None:
    """Spend what one verification costs, so that "no such user" takes as long as "wrong password"."""
    verify_password(password, _dummy_hash())


def nt_hash(password: str) -> bytes:
    """MD4 of the UTF-16LE password (RFC 2759 NtPasswordHash): what MSCHAPv2 needs; a password equivalent."""
    return md4(password.encode("utf-16-le"))
