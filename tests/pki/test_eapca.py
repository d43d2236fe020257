"""The IdP's EAP CA: server and user certificates, and the PKCS#12 a device imports."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.pki.conftest import NOW
from tests.support.procs import need
from tsunagaru.pki import (
    PkiError,
    export_pkcs12,
    issue_server_certificate,
    issue_user_certificate,
    make_eap_ca,
    write_cert_and_key,
    write_pem_bundle,
)
from tsunagaru.pki.names import common_name, dns_names


def _eku(cert: x509.Certificate) -> list[x509.ObjectIdentifier]:
    return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def test_server_and_user_certificates_chain_to_the_eap_ca(tmp_path: Path) -> None:
    ca = make_eap_ca("Tsunagaru IdP", NOW)
    server = issue_server_certificate(ca, "idp.tsunagaru.test", NOW)
    alice = issue_user_certificate(ca, "alice@idp.tsunagaru.test", NOW, 30)
    assert _eku(server.cert) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert dns_names(server.cert) == ["idp.tsunagaru.test"]
    assert _eku(alice.cert) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert common_name(alice.cert) == "alice@idp.tsunagaru.test"
    assert (alice.cert.not_valid_after_utc - NOW).days == 30
    for leaf in (server, alice):
        leaf.cert.verify_directly_issued_by(ca.cert)
    need("openssl")
    write_pem_bundle(tmp_path / "ca.pem", [ca.cert])
    write_cert_and_key(alice, tmp_path / "alice.pem", tmp_path / "alice.key")
    write_cert_and_key(server, tmp_path / "server.pem", tmp_path / "server.key")
    for name, purpose in (("alice", "sslclient"), ("server", "sslserver")):
        out = subprocess.run(
            [
                "openssl",
                "verify",
                "-attime",
                str(int(NOW.timestamp())),
                "-CAfile",
                tmp_path / "ca.pem",
                "-purpose",
                purpose,
                tmp_path / f"{name}.pem",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, out.stdout + out.stderr


def test_pkcs12_has_empty_password_and_the_ca(tmp_path: Path) -> None:
    ca = make_eap_ca("Tsunagaru IdP", NOW)
    alice = issue_user_certificate(ca, "alice@idp.tsunagaru.test", NOW)
    blob = export_pkcs12(alice, name="alice")
    key, cert, extra = pkcs12.load_key_and_certificates(blob, None)
    assert cert == alice.cert and extra == [ca.cert] and key is not None
    need("openssl")
    (tmp_path / "alice.p12").write_bytes(blob)
    out = subprocess.run(
        ["openssl", "pkcs12", "-in", tmp_path / "alice.p12", "-passin", "pass:", "-nodes"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("BEGIN CERTIFICATE") == 2 and "PRIVATE KEY" in out.stdout


@pytest.mark.parametrize("bad", ["", "a\nb", "x" * 300])
def test_unusable_user_names(bad: str) -> None:
    with pytest.raises(PkiError):
        issue_user_certificate(make_eap_ca("X", NOW), bad, NOW)
