"""Passwords (argon2id) and random tokens stored as their SHA-256.

argon2-cffi's defaults are RFC 9106's second recommendation (argon2id, 64 MiB); a token is 32 random
octets, so a fast hash is enough at rest (nobody brute-forces 256 bits) and lookups stay one index hit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
# A hash to verify against when the user does not exist, so that timing does not tell names apart.
_DUMMY = _HASHER.hash("not-a-password-" + secrets.token_hex(8))

MIN_PASSWORD = 10
MAX_PASSWORD = 256


class WeakPassword(ValueError):
    """A password outside the accepted length."""


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise WeakPassword(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; with ``stored`` None a dummy hash is checked (same cost)."""
    if len(password) > MAX_PASSWORD:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """A random bearer token with a readable prefix (``tsg_`` users, ``tsa_`` APs)."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
