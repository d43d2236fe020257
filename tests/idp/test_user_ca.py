"""The user CA: what it issues, what it keeps on disk, and the PKCS#12 it hands out."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.idp.helpers import NOW
from tsunagaru.idp.user_ca import CA_KEY_FILE, UserCA, UserCAError


def test_issued_certificate_is_a_p256_client_certificate_signed_by_the_ca() -> None:
    ca = UserCA.create(now=NOW)
    cert, key = ca.issue("alice@idp.tsunagaru.test", 30, NOW)
    cert.verify_directly_issued_by(ca.certificate)
    assert isinstance(key.curve, ec.SECP256R1)
    assert cert.public_key() == key.public_key()
    assert cert.subject.rfc4514_string() == "CN=alice@idp.tsunagaru.test"
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.not_valid_after_utc == NOW + timedelta(days=30)
    assert cert.not_valid_before_utc < NOW  # a little back-dated for slow clocks


def test_ca_is_a_self_signed_p256_ca() -> None:
    ca = UserCA.create(now=NOW)
    ca.certificate.verify_directly_issued_by(ca.certificate)
    assert ca.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_certificates_never_outlive_the_ca() -> None:
    ca = UserCA.create(now=NOW, days=10)
    cert, _ = ca.issue("alice@x.test", 365, NOW)
    assert cert.not_valid_after_utc == ca.certificate.not_valid_after_utc
    with pytest.raises(UserCAError):
        ca.issue("alice@x.test", 0, NOW)


def test_pkcs12_with_empty_password_round_trips() -> None:
    ca = UserCA.create(now=NOW)
    cert, key = ca.issue("alice@x.test", 30, NOW)
    loaded = pkcs12.load_pkcs12(ca.to_pkcs12(cert, key, "alice"), None)
    assert loaded.cert is not None and loaded.cert.certificate == cert
    assert loaded.key is not None and loaded.key.public_key() == key.public_key()
    assert [c.certificate for c in loaded.additional_certs] == [ca.certificate]


def test_state_folder_keeps_the_same_ca_and_a_private_key_file(tmp_path: Path) -> None:
    first = UserCA.load_or_create(tmp_path / "state", now=NOW)
    again = UserCA.load_or_create(tmp_path / "state", now=NOW)
    assert again.certificate == first.certificate
    mode = stat.S_IMODE((tmp_path / "state" / CA_KEY_FILE).stat().st_mode)
    assert mode == 0o600


def test_unreadable_ca_files_are_reported(tmp_path: Path) -> None:
    UserCA.load_or_create(tmp_path, now=NOW)
    (tmp_path / CA_KEY_FILE).write_text("garbage")
    with pytest.raises(UserCAError):
        UserCA.load(tmp_path)
