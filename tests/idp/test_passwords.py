"""scrypt hashes for PAP: format, parameters carried with the hash, refusal of bad input."""

from __future__ import annotations

import pytest

from tsunagaru.idp.passwords import PasswordHashError, ScryptParams, burn_time, hash_password, verify_password

FAST = ScryptParams(n=2**8, r=8, p=1)


def test_right_and_wrong_passwords() -> None:
    stored = hash_password("alice-password", FAST)
    assert verify_password("alice-password", stored)
    assert verify_password(b"alice-password", stored)  # PAP hands over bytes; text is UTF-8
    assert not verify_password("alice-passworD", stored)
    assert not verify_password(b"", stored)


def test_parameters_travel_with_the_hash() -> None:
    stored = hash_password("pw", ScryptParams(n=2**9, r=4, p=2))
    assert stored.startswith("scrypt$n=512,r=4,p=2$")
    assert verify_password("pw", stored)


def test_default_parameters_are_the_slow_ones() -> None:
    assert hash_password("pw").startswith("scrypt$n=16384,r=8,p=1$")


def test_salts_differ() -> None:
    assert hash_password("same", FAST) != hash_password("same", FAST)


def test_known_salt_gives_a_reproducible_hash() -> None:
    salt = bytes(16)
    assert hash_password("pw", FAST, salt=salt) == hash_password("pw", FAST, salt=salt)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "bcrypt$n=256,r=8,p=1$AAAA$AAAA",
        "scrypt$n=255,r=8,p=1$AAAA$AAAA",  # not a power of two
        "scrypt$n=4194304,r=8,p=1$AAAA$AAAA",  # would take 4 GiB
        "scrypt$r=8,p=1$AAAA$AAAA",
        "scrypt$n=256,r=8,p=1$!!$AAAA",
        "scrypt$n=256,r=8,p=1$AAAA$",
    ],
)
def test_unreadable_hashes_raise(stored: str) -> None:
    with pytest.raises(PasswordHashError):
        verify_password("pw", stored)


def test_burn_time_runs_a_real_verification(monkeypatch: pytest.MonkeyPatch) -> None:
    """Review 35: "must not raise" passed if burn_time did nothing. It must run one scrypt verification
    with the stored parameters, as a real user's check does (counted, not timed)."""
    import hashlib

    from tsunagaru.idp import passwords

    burn_time(b"warm")  # the dummy hash itself is made once per process
    calls: list[tuple[int, int, int]] = []
    real = hashlib.scrypt

    def counting(password: bytes, *, salt: bytes, n: int, r: int, p: int, **kw: int) -> bytes:
        calls.append((n, r, p))
        return real(password, salt=salt, n=n, r=r, p=p, **kw)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    burn_time(b"anything")
    default = passwords.ScryptParams()
    assert calls == [(default.n, default.r, default.p)]
