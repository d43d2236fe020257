"""``tsunagaru pki`` through the real entry point, and once as the installed command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tsunagaru.cli import main
from tsunagaru.pki import new_key, read_pem_certificates
from tsunagaru.pki.names import wbaid_of

AT = ["--at", "2026-06-01T12:00Z"]


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main(["pki", *(str(a) for a in argv)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def fed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    folder = tmp_path / "fed"
    code, out, _ = run(capsys, "init", folder, "--name", "CLI Federation", *AT)
    assert code == 0 and "root.pem" in out
    return folder


def _serial(capsys: pytest.CaptureFixture[str], pem: Path) -> str:
    code, out, _ = run(capsys, "show", pem, *AT)
    assert code == 0
    return next(line.split()[1] for line in out.splitlines() if line.strip().startswith("serial:"))


def test_issue_show_verify_revoke(fed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = tmp_path / "idp"
    code, out, _ = run(
        capsys,
        "issue",
        fed,
        "--fqdn",
        "radsec.idp.example",
        "--wbaid",
        "EXAMPLE:JP",
        "--role",
        "idp",
        "--realm",
        "idp.example",
        "--out",
        prefix,
        *AT,
    )
    assert code == 0 and f"{prefix}.key" in out
    code, out, _ = run(capsys, "show", f"{prefix}.pem", *AT)
    assert code == 0
    for words in (
        "WBAID:     EXAMPLE:JP",
        "IdP (TLS server)",
        "1.3.6.1.4.1.14122.1.1.7 present",
        "realms:    idp.example",
        "certificate 3 of 3",
        "valid, 365 days left",
    ):
        assert words in out, out

    verify: list[str | Path] = [
        "verify",
        f"{prefix}.pem",
        "--roots",
        fed / "root.pem",
        "--crl",
        fed / "crl.pem",
        *AT,
    ]
    code, out, _ = run(capsys, *verify, "--name", "idp.example")
    assert code == 0 and "ACCEPTED" in out and "path to a configured root" in out
    code, out, _ = run(capsys, *verify, "--direction", "client")
    assert code == 1 and "REFUSED (wrong-usage)" in out
    code, out, _ = run(capsys, *verify, "--name", "radsec.idp.example.org")
    assert code == 1 and "REFUSED (name-mismatch)" in out

    code, out, _ = run(capsys, "revoke", fed, _serial(capsys, Path(f"{prefix}.pem")), *AT)
    assert code == 0 and "revoked serial" in out
    code, out, _ = run(capsys, *verify)
    assert code == 1 and "REFUSED (revoked)" in out
    code, out, _ = run(capsys, "crl", fed, *AT)
    assert code == 0 and "CRL number 3 (1 revoked)" in out
    code, out, _ = run(capsys, "show", fed / "crl.pem", *AT)
    assert code == 0 and out.count("CRL from") == 3


def test_verify_later_finds_the_certificate_expired(fed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "issue", fed, "--fqdn", "a.example", "--wbaid", "A:JP", "--role", "anp", "--days", "10", *AT)
    pem = fed / "members" / "a.example-anp.pem"
    code, out, _ = run(
        capsys, "verify", pem, "--roots", fed / "root.pem", "--direction", "client", "--at", "2026-07-01"
    )
    assert code == 1 and "REFUSED (expired)" in out


def test_sign_csr(fed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "proxy.anp.example"),
            x509.NameAttribute(NameOID.USER_ID, "CITY:JP"),
        ]
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(new_key("ec"), hashes.SHA256())
    (tmp_path / "req.csr").write_bytes(csr.public_bytes(Encoding.PEM))
    out_file = tmp_path / "anp.pem"
    code, out, _ = run(capsys, "sign-csr", fed, tmp_path / "req.csr", "--role", "anp", "--out", out_file, *AT)
    assert code == 0, out
    certs = read_pem_certificates(out_file.read_bytes())
    assert len(certs) == 3 and wbaid_of(certs[0]) == "CITY:JP"
    usages = certs[0].extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usages) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    code, _, _ = run(capsys, "verify", out_file, "--roots", fed / "root.pem", "--direction", "client", *AT)
    assert code == 0


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["verify", "{tmp}/missing.pem", "--roots", "{fed}/root.pem"], "cannot read certificate"),
        (["verify", "{fed}/index.json", "--roots", "{fed}/root.pem"], "not a DER certificate either"),
        (["issue", "{fed}", "--fqdn", "x.example", "--wbaid", "example:jp", "--role", "idp"], "did you mean"),
        (["issue", "{fed}", "--fqdn", "bad_host!", "--wbaid", "X:JP", "--role", "idp"], "invalid DNS name"),
        (["revoke", "{fed}", "zz-top"], "hexadecimal"),
        (["revoke", "{fed}", "abc123"], "not issued by this PKI"),
        (["init", "{fed}"], "already holds a PKI"),
        (["show", "{fed}/root.key"], "no CERTIFICATE block"),
        (["crl", "{tmp}/nowhere"], "cannot read PKI index"),
        (["verify", "{fed}/root.pem", "--roots", "{fed}/root.pem", "--at", "yesterday"], "not an ISO date"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    fed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    code, _, err = run(capsys, *(a.format(fed=fed, tmp=tmp_path) for a in argv))
    assert code == 2
    assert words in err and err.count("\n") == 1, err


def test_argparse_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["pki", "issue", "/tmp/x", "--role", "router"])
    assert exited.value.code == 2


def test_installed_command(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "tsunagaru"
    if not exe.exists():
        pytest.skip("the tsunagaru command is not installed in this environment")
    subprocess.run([exe, "pki", "init", tmp_path / "fed", "--rsa"], check=True, capture_output=True)
    subprocess.run(
        [
            exe,
            "pki",
            "issue",
            tmp_path / "fed",
            "--fqdn",
            "hub.example",
            "--wbaid",
            "HUB:JP",
            "--role",
            "hub",
            "--out",
            tmp_path / "hub",
        ],
        check=True,
        capture_output=True,
    )
    verify: list[str | Path] = [
        exe,
        "pki",
        "verify",
        tmp_path / "hub.pem",
        "--roots",
        tmp_path / "fed" / "root.pem",
    ]
    done = subprocess.run([*verify, "--direction", "client"], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "ACCEPTED" in done.stdout, done.stdout + done.stderr
    done = subprocess.run(
        [*verify, "--name", "elsewhere.example"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1 and "name-mismatch" in done.stdout
    done = subprocess.run(
        [exe, "pki", "show", tmp_path / "nothing.pem"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and done.stderr.startswith("tsunagaru pki show: cannot read file")
