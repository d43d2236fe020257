"""`tsunagaru idp ...` end to end through tsunagaru.cli.main, on a SQLite file in tmp_path."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from tsunagaru.cli import main
from tsunagaru.eap.credentials import Verdict
from tsunagaru.idp.passwords import nt_hash
from tsunagaru.idp.store import SqlCredentialStore
from tsunagaru.store import Store

ALICE = "alice@idp.tsunagaru.test"


@pytest.fixture
def db(tmp_path: Path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path / 'idp.sqlite'}", "--state", str(tmp_path / "state")]


def _creds(db: list[str]) -> SqlCredentialStore:
    return SqlCredentialStore(Store.open(db[1]))


def _json_list(db: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    capsys.readouterr()
    assert main(["idp", "user", "list", "--json", *db]) == 0
    found: list[dict[str, object]] = json.loads(capsys.readouterr().out)
    return found


def test_add_list_disable_enable(
    db: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("alice-password\n"))
    assert main(["idp", "user", "add", ALICE, "--password-stdin", "--mschapv2", *db]) == 0
    assert main(["idp", "user", "add", "bob", "--realm", "example.org", *db]) == 0
    listed = _json_list(db, capsys)
    assert [(u["username"], u["realm"], u["mschapv2"], u["password"]) for u in listed] == [
        ("bob", "example.org", False, False),
        ("alice", "idp.tsunagaru.test", True, True),
    ]
    assert main(["idp", "user", "list", *db]) == 0
    assert ALICE in capsys.readouterr().out

    creds = _creds(db)
    assert creds.check_password(ALICE, b"alice-password") is Verdict.OK
    assert creds.nt_hash(ALICE).nt_hash == nt_hash("alice-password")
    assert main(["idp", "user", "disable", ALICE, *db]) == 0
    assert _creds(db).check_password(ALICE, b"alice-password") is Verdict.DISABLED
    assert main(["idp", "user", "enable", "alice", *db]) == 0
    assert _creds(db).check_password(ALICE, b"alice-password") is Verdict.OK


def test_password_from_stdin(
    db: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("from-stdin\n"))
    assert main(["idp", "user", "add", ALICE, "--password-stdin", *db]) == 0
    assert "from-stdin" not in capsys.readouterr().out
    assert _creds(db).check_password("alice", b"from-stdin") is Verdict.OK
    monkeypatch.setattr("sys.stdin", io.StringIO("changed\n"))
    assert main(["idp", "user", "set-password", "alice", "--password-stdin", "--mschapv2", *db]) == 0
    assert _creds(db).nt_hash("alice").nt_hash == nt_hash("changed")


def test_errors_exit_1_with_a_message(db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["idp", "user", "add", "carol", *db]) == 1  # no realm
    assert main(["idp", "user", "add", ALICE, "--mschapv2", *db]) == 1  # MSCHAPv2 without a password
    assert main(["idp", "user", "add", ALICE, *db]) == 0
    assert main(["idp", "user", "add", ALICE, *db]) == 1  # exists
    assert main(["idp", "user", "disable", "nobody", *db]) == 1
    err = capsys.readouterr().err
    assert err.count("tsunagaru idp: error:") == 4
    assert main(["idp", "user"]) == 2  # no action: help


def test_cert_issue_and_revoke(db: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["idp", "user", "add", ALICE, *db]) == 0
    p12 = tmp_path / "out" / "alice.p12"
    assert main(["idp", "cert", "issue", "alice", "--p12", str(p12), "--days", "7", *db]) == 0
    bundle = pkcs12.load_pkcs12(p12.read_bytes(), None)
    assert bundle.cert is not None and bundle.key is not None
    cert = bundle.cert.certificate
    assert cert.subject.rfc4514_string() == f"CN={ALICE}"
    assert (tmp_path / "state" / "user-ca.pem").exists()
    assert p12.stat().st_mode & 0o077 == 0
    assert _creds(db).check_certificate(cert, chain_verified=True) is Verdict.OK
    assert _json_list(db, capsys)[0]["active_certificates"] == 1

    assert main(["idp", "user", "revoke", ALICE, *db]) == 0
    assert "revoked 1 certificate" in capsys.readouterr().out
    assert _creds(db).check_certificate(cert, chain_verified=True) is Verdict.REVOKED


def test_db_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'env.sqlite'}"
    monkeypatch.setenv("TSUNAGARU_DB", url)
    assert main(["idp", "user", "add", ALICE]) == 0
    assert (tmp_path / "env.sqlite").exists()
    assert _json_list(["--db", url], capsys)[0]["username"] == "alice"


def test_other_modules_can_add_idp_subcommands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "idp_serve_stub.py").write_text(
        "def register(sub):\n"
        "    p = sub.add_parser('serve')\n"
        "    p.set_defaults(func=lambda args: print('serving') or 0)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("tsunagaru.idp.cli.IDP_COMMAND_MODULES", ("idp_serve_stub",))
    assert main(["idp", "serve"]) == 0
    assert capsys.readouterr().out == "serving\n"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _secret_files(folder: Path) -> dict[str, int]:
    return {p.name: _mode(p) for p in sorted(folder.rglob("*")) if p.is_file()}


def test_secrets_are_owner_only_after_every_command(
    db: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Review 3: the database holds NT hashes; with a permissive umask every file is still 0600."""
    old = os.umask(0)
    try:
        monkeypatch.setattr("sys.stdin", io.StringIO("alice-password\n"))
        assert main(["idp", "user", "add", ALICE, "--password-stdin", "--mschapv2", *db]) == 0
        assert {n: m for n, m in _secret_files(tmp_path).items() if n.startswith("idp.sqlite")} == {
            n: 0o600 for n in _secret_files(tmp_path) if n.startswith("idp.sqlite")}
        assert _mode(tmp_path / "idp.sqlite") == 0o600
        monkeypatch.setattr("sys.stdin", io.StringIO("changed\n"))
        assert main(["idp", "user", "set-password", "alice", "--password-stdin", *db]) == 0
        assert _mode(tmp_path / "idp.sqlite") == 0o600
        p12 = tmp_path / "out" / "alice.p12"
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / ".alice.p12.tmp").write_bytes(b"stale")  # a planted temp file is never reused
        os.chmod(tmp_path / "out" / ".alice.p12.tmp", 0o666)
        assert main(["idp", "cert", "issue", "alice", "--p12", str(p12), *db]) == 0
        assert _mode(p12) == 0o600
        assert _mode(tmp_path / "state") == 0o700
        assert _mode(tmp_path / "state" / "user-ca.key") == 0o600
        assert [p.name for p in (tmp_path / "out").iterdir() if p.name.endswith(".tmp")] == [".alice.p12.tmp"]
        assert all(m & 0o077 == 0 for n, m in _secret_files(tmp_path).items()
                   if n.endswith((".key", ".p12")) or n.startswith("idp.sqlite")), _secret_files(tmp_path)
    finally:
        os.umask(old)


def test_password_on_the_command_line_is_refused(db: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["idp", "user", "add", ALICE, "--password", "visible-in-ps", *db]) == 1
    assert "--password-stdin" in capsys.readouterr().err
    assert main(["idp", "user", "list", *db]) == 0
    assert ALICE not in capsys.readouterr().out  # nothing stored


def test_password_from_a_prompt(db: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["typed", "typed", "new-one", "new-one", "a", "b"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(answers))
    assert main(["idp", "user", "add", ALICE, "--ask-password", *db]) == 0
    assert _creds(db).check_password(ALICE, b"typed") is Verdict.OK
    assert main(["idp", "user", "set-password", "alice", *db]) == 0  # set-password asks by default
    assert _creds(db).check_password(ALICE, b"new-one") is Verdict.OK
    assert main(["idp", "user", "set-password", "alice", *db]) == 1  # the two entries differ
    assert _creds(db).check_password(ALICE, b"new-one") is Verdict.OK


def test_a_bad_database_url_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """Review 14: not a traceback."""
    assert main(["idp", "user", "list", "--db", "not a url"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a database URL" in err
