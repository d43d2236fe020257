"""User operations on both backends: what is stored, what is refused, what is never logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from cryptography import x509
from sqlalchemy import select

from tests.idp.helpers import FAST, NOW, REALM
from tsunagaru.idp import users
from tsunagaru.idp.passwords import nt_hash, verify_password
from tsunagaru.idp.user_ca import UserCA
from tsunagaru.store import Store, User


def _add(store: Store, name: str = f"alice@{REALM}", **kwargs: object) -> users.UserInfo:
    with store.session() as session:
        return users.add_user(session, name, now=NOW, params=FAST, **kwargs)  # type: ignore[arg-type]


def _row(store: Store, name: str = "alice") -> User:
    with store.session() as session:
        return session.scalars(select(User).where(User.username == name)).one()


def test_add_and_list(store: Store) -> None:
    info = _add(store, password="alice-password")
    _add(store, "bob", realm="Other.Example", password="b")
    assert (info.username, info.realm, info.nai) == ("alice", REALM, f"alice@{REALM}")
    assert info.enabled and info.has_password and not info.mschapv2
    with store.session() as session:
        listed = users.list_users(session)
    assert [u.nai for u in listed] == [f"alice@{REALM}", "bob@other.example"]
    assert listed[0].to_json()["created_at"] == NOW.isoformat()


def test_password_is_hashed_and_nt_hash_absent_without_mschapv2(store: Store) -> None:
    _add(store, password="alice-password")
    row = _row(store)
    assert row.password_hash is not None and "alice-password" not in row.password_hash
    assert verify_password("alice-password", row.password_hash)
    assert row.nt_hash is None and not row.mschapv2_enabled


def test_mschapv2_stores_the_nt_hash(store: Store) -> None:
    _add(store, password="password", mschapv2=True)
    assert _row(store).nt_hash == nt_hash("password")


def test_mschapv2_needs_a_password(store: Store) -> None:
    with pytest.raises(users.UserError, match="MSCHAPv2"):
        _add(store, mschapv2=True)


def test_opting_out_of_mschapv2_erases_the_nt_hash(store: Store) -> None:
    _add(store, password="pw", mschapv2=True)
    with store.session() as session:
        assert not users.disable_mschapv2(session, "alice", now=NOW).mschapv2
    assert _row(store).nt_hash is None


def test_set_password_keeps_or_changes_the_mschapv2_choice(store: Store) -> None:
    _add(store, password="old", mschapv2=True)
    later = NOW + timedelta(hours=1)
    with store.session() as session:
        users.set_password(session, "alice", "new", now=later, params=FAST)
    row = _row(store)
    assert row.nt_hash == nt_hash("new") and row.updated_at == later
    assert row.password_hash is not None and verify_password("new", row.password_hash)
    with store.session() as session:
        users.set_password(session, "alice", "newer", now=later, mschapv2=False, params=FAST)
    assert _row(store).nt_hash is None


@pytest.mark.parametrize(
    ("name", "realm"),
    [("carol", None), ("", REALM), ("a b", REALM), ("x\x00y", REALM), ("alice@one.test", "two.test")],
)
def test_invalid_names_are_refused(store: Store, name: str, realm: str | None) -> None:
    with pytest.raises(users.InvalidUsername):
        _add(store, name, realm=realm)


def test_duplicates_are_refused_within_a_realm(store: Store) -> None:
    _add(store)
    with pytest.raises(users.UserExists):
        _add(store, f"alice@{REALM}")


def test_the_same_name_in_two_realms_is_two_users(store: Store) -> None:
    """Review 59: usernames were unique across realms, so a city could not have alice in two realms."""
    _add(store)
    _add(store, "alice@elsewhere.test")
    with store.session() as session:
        assert users.find_user(session, f"alice@{REALM}") is not None
        assert users.find_user(session, "alice@elsewhere.test") is not None
        assert users.find_user(session, "alice") is None  # ambiguous without its realm
        users.disable_user(session, "alice@elsewhere.test", now=NOW)
        assert [u.enabled for u in users.list_users(session)] == [False, True]


def test_disable_enable_and_unknown(store: Store) -> None:
    _add(store)
    with store.session() as session:
        assert not users.disable_user(session, f"alice@{REALM}", now=NOW).enabled
    assert not _row(store).enabled
    with store.session() as session:
        assert users.enable_user(session, "alice", now=NOW).enabled
        with pytest.raises(users.UnknownUser):
            users.disable_user(session, "nobody", now=NOW)
        with pytest.raises(users.UnknownUser):
            users.get_user(session, "alice@wrong.realm")


def test_issue_record_and_revoke_certificates(store: Store) -> None:
    ca = UserCA.create(now=NOW)
    _add(store)
    with store.session() as session:
        first, _ = users.issue_certificate(session, ca, "alice", days=30, now=NOW)
        second, _ = users.issue_certificate(session, ca, "alice", days=30, now=NOW)
    assert first.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == f"alice@{REALM}"
    with store.session() as session:
        certs = users.list_certificates(session, "alice")
        assert [c.serial for c in certs] == [users.certificate_serial(c) for c in (first, second)]
        assert users.get_user(session, "alice").active_certificates == 2
        # By serial, as an operator would paste it from openssl (upper case, colons).
        digits = f"{first.serial_number:X}".zfill(40)
        pasted = ":".join(digits[i : i + 2] for i in range(0, 40, 2))
        assert users.revoke_certificate(session, now=NOW, serial=pasted) == 1
        assert users.revoke_certificate(session, now=NOW, serial=f"0x{first.serial_number:X}") == 0
        assert users.revoke_user_certificates(session, "alice", now=NOW) == 1
        assert users.revoke_user_certificates(session, "alice", now=NOW) == 0
        assert all(c.revoked_at == NOW for c in users.list_certificates(session, "alice"))
        assert users.get_user(session, "alice").active_certificates == 0


def test_revoke_by_fingerprint(store: Store) -> None:
    ca = UserCA.create(now=NOW)
    _add(store)
    with store.session() as session:
        cert, _ = users.issue_certificate(session, ca, "alice", days=30, now=NOW)
        fingerprint = users.certificate_fingerprint(cert).upper()
        assert users.revoke_certificate(session, now=NOW, fingerprint=fingerprint) == 1
        with pytest.raises(users.UserError):
            users.revoke_certificate(session, now=NOW)
        with pytest.raises(users.UserError):
            users.revoke_certificate(session, now=NOW, serial="not-hex")


def test_disabled_users_get_no_certificates(store: Store) -> None:
    _add(store)
    with store.session() as session:
        users.disable_user(session, "alice", now=NOW)
        with pytest.raises(users.UserError, match="disabled"):
            users.issue_certificate(session, UserCA.create(now=NOW), "alice", days=1, now=NOW)


def test_passwords_never_reach_the_logs(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _add(store, password="s3cret-Pa55", mschapv2=True)
    with store.session() as session:
        users.set_password(session, "alice", "an0ther-Pa55", now=NOW, params=FAST)
    assert caplog.records  # the operations were logged...
    assert "s3cret-Pa55" not in caplog.text and "an0ther-Pa55" not in caplog.text  # ...without passwords
    assert nt_hash("s3cret-Pa55").hex() not in caplog.text.lower()


def test_user_management_logs_name_the_realm(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """Review 57: enable/disable/set-password/certificate lines logged ``#hash`` without ``@realm``."""
    import logging

    caplog.set_level(logging.INFO, logger="tsunagaru")
    _add(store)
    with store.session() as session:
        users.disable_user(session, f"alice@{REALM}", now=NOW)
        users.set_password(session, f"alice@{REALM}", "new-pw", now=NOW)
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("tsunagaru.idp")]
    assert len(lines) >= 3 and all(f"@{REALM}#" in line for line in lines), lines
    assert not any("alice" in line for line in lines)
