"""wpa_supplicant cred and network blocks, loaded by Debian's real wpa_supplicant and read back."""

from __future__ import annotations

from pathlib import Path, PurePath

import pytest

from tests.passpoint.profiles.conftest import REALM
from tests.passpoint.profiles.wpas import ConfigRefused, loaded
from tsunagaru.passpoint.profiles import wpa_supplicant as wpas
from tsunagaru.passpoint.profiles.model import (
    CertificateCredential,
    EapMethod,
    InnerMethod,
    PasswordCredential,
    ProfileError,
    ProfileSettings,
)

ETC = PurePath("/etc/tsunagaru")
CA, CERT, KEY = ETC / "ca.pem", ETC / "dev.pem", ETC / "dev.key"


def test_ttls_cred_block_is_what_wpa_supplicant_reads(tmp_path: Path, settings: ProfileSettings,
                                                      ttls: PasswordCredential) -> None:
    text = wpas.config_file(settings, ttls, ca_cert=CA, ctrl_interface="X").split("\n", 1)[1]
    assert 'roaming_consortiums="5a03ba0000,004096"' in text and "\teap=TTLS\n" in text
    with loaded(tmp_path, text) as wpa:
        assert wpa.cli("list_creds").splitlines()[1].split("\t")[:4] == ["0", REALM, ttls.username, REALM]
        assert wpa.cli("get_cred", "0", "roaming_consortiums") == "5a03ba0000,004096"
        assert wpa.cli("get_cred", "0", "realm") == REALM
        assert wpa.cli("get_cred", "0", "domain") == REALM
        assert wpa.cli("get_cred", "0", "eap") == "TTLS"
        assert wpa.cli("get_cred", "0", "phase2") == "auth=MSCHAPV2"
        assert wpa.cli("get_cred", "0", "ca_cert") == str(CA)
        assert wpa.cli("get_cred", "0", "domain_suffix_match") == REALM
        assert wpa.cli("get_cred", "0", "provisioning_sp") == REALM


def test_tls_cred_and_network_blocks_load(tmp_path: Path, settings: ProfileSettings,
                                          tls: CertificateCredential) -> None:
    cred = wpas.cred_block(settings, tls, ca_cert=CA, client_cert=CERT, private_key=KEY)
    network = wpas.network_block(settings, tls, ca_cert=CA, client_cert=CERT, private_key=KEY, ssid="OpenRoaming")
    with loaded(tmp_path, "interworking=1\nhs20=1\n" + cred + network) as wpa:
        assert wpa.cli("get_cred", "0", "eap") == "TLS"
        assert wpa.cli("get_cred", "0", "client_cert") == str(CERT)
        assert wpa.cli("get_cred", "0", "private_key") == str(KEY)
        assert wpa.cli("get_network", "0", "ssid") == '"OpenRoaming"'
        assert wpa.cli("get_network", "0", "key_mgmt") == "WPA-EAP WPA-EAP-SHA256"
        assert wpa.cli("get_network", "0", "eap") == "TLS"
        assert wpa.cli("get_network", "0", "identity") == f'"{tls.username}"'
        assert wpa.cli("get_network", "0", "domain_suffix_match") == f'"{REALM}"'


@pytest.mark.parametrize("method,inner,phase2", [(EapMethod.TTLS, InnerMethod.PAP, "auth=PAP"),
                                                 (EapMethod.PEAP, InnerMethod.MSCHAPV2, "auth=MSCHAPV2")])
def test_network_block_for_password_methods(tmp_path: Path, settings: ProfileSettings, method: EapMethod,
                                            inner: InnerMethod, phase2: str) -> None:
    # a password wpa_supplicant can only read in its P"..." form (quote, backslash, non-ASCII)
    credential = PasswordCredential(f"d-9@{REALM}", 'pa"ss\\wörd', method, inner)
    network = wpas.network_block(settings, credential, ca_cert=CA, wired=True)
    assert 'password=P"pa\\"ss\\\\w\\xc3\\xb6rd"' in network
    with loaded(tmp_path, "ap_scan=0\n" + network) as wpa:
        assert wpa.cli("get_network", "0", "phase2") == f'"{phase2}"'
        assert wpa.cli("get_network", "0", "anonymous_identity") == f'"anonymous@{REALM}"'
        assert wpa.cli("get_network", "0", "key_mgmt") == "IEEE8021X"


def test_the_loader_fails_loudly_on_a_bad_block(tmp_path: Path, settings: ProfileSettings,
                                                ttls: PasswordCredential) -> None:
    good = wpas.cred_block(settings, ttls, ca_cert=CA)
    bad = good.replace(f'realm="{REALM}"', f"realm={REALM}")
    with pytest.raises(ConfigRefused, match="failed to parse cred block"), loaded(tmp_path, bad):
        pass


def test_home_ois_is_refused_by_wpa_supplicant_2_10(tmp_path: Path, settings: ProfileSettings,
                                                    ttls: PasswordCredential) -> None:
    """Why ``home_ois`` is opt-in: Debian 12's wpa_supplicant 2.10 drops a cred block that has it."""
    block = wpas.cred_block(settings, ttls, ca_cert=CA, home_ois=True)
    assert 'home_ois="5a03ba0000,004096"' in block
    with pytest.raises(ConfigRefused, match="unknown cred field 'home_ois'"), \
            loaded(tmp_path, "interworking=1\nhs20=1\n" + block):
        pass


def test_long_cred_lines_are_refused_not_cut(settings: ProfileSettings, ttls: PasswordCredential) -> None:
    with pytest.raises(ProfileError, match="longer than wpa_supplicant reads"):
        wpas.cred_block(settings, ttls, ca_cert=PurePath("/" + "a" * 260))


def test_ca_bundle_has_every_trusted_ca(settings: ProfileSettings) -> None:
    assert wpas.ca_bundle(settings).count(b"BEGIN CERTIFICATE") == len(settings.ca_certificates)


@pytest.mark.parametrize("kind", ["ttls", "tls"])
def test_single_file_bundle_loads(tmp_path: Path, settings: ProfileSettings, ttls: PasswordCredential,
                                  tls: CertificateCredential, kind: str) -> None:
    credential = ttls if kind == "ttls" else tls
    profile = wpas.bundle(settings, credential, ssid="OpenRoaming", ctrl_interface="X")
    assert profile.content_type.startswith("text/plain")
    with loaded(tmp_path, profile.data.decode().split("\n", 1)[1]) as wpa:
        assert wpa.cli("get_cred", "0", "ca_cert") == "blob://tsunagaru-ca"
        assert wpa.cli("get_network", "0", "ssid") == '"OpenRoaming"'
        if kind == "tls":
            assert wpa.cli("get_cred", "0", "private_key") == "blob://tsunagaru-key"
