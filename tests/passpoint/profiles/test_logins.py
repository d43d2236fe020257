"""Real logins with profile contents: eapol_test and wpa_supplicant through our ANP (RadSec, federation
PKI) to our IdP, with per-device credentials made in the IdP's store the way the portal will make them.

* every method the portal hands out (TTLS/PAP, TTLS/MSCHAPv2, PEAP/MSCHAPv2, EAP-TLS) logs in with
  the wpa_supplicant network block built for it;
* every platform's profile logs in with exactly what it holds (tests/passpoint/profiles/clients.py);
* the wired path: wpa_supplicant (own namespace) -> hostapd -> ANP -> IdP with the network block.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.eap.eapol import eapol_test
from tests.passpoint.profiles import clients
from tests.passpoint.profiles.conftest import make_signer, required
from tests.support.anp_stack import AnpProcess, anp_ports, anp_toml, make_state, run_anp, run_idp
from tests.support.procs import wait_log
from tests.support.wired import hostapd, supplicant, veth_pair
from tsunagaru.demo_state import NAS_SECRET, REALM, DemoState
from tsunagaru.idp.user_ca import UserCA
from tsunagaru.passpoint.profiles import android, apple, devices, windows
from tsunagaru.passpoint.profiles import wpa_supplicant as wpas
from tsunagaru.passpoint.profiles.model import (
    DeviceCredential,
    EapMethod,
    FriendlyName,
    InnerMethod,
    ProfileSettings,
)
from tsunagaru.store import Store

pytestmark = [pytest.mark.interop, pytest.mark.timeout(180)]
KINDS = ["ttls-pap", "ttls-mschapv2", "peap-mschapv2", "tls"]


@dataclass
class Stack:
    state: DemoState
    anp: AnpProcess
    settings: ProfileSettings


def settings_of(state: DemoState) -> ProfileSettings:
    return ProfileSettings(realm=REALM, home_fqdn=REALM, friendly_names=(FriendlyName("en", "Tsunagaru"),),
                           ca_certificates=devices.load_cas(state.path("ca.pem").read_bytes()), server_names=(REALM,))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    required("eapol_test")
    folder = tmp_path_factory.mktemp("logins")
    state = make_state(folder / "state")
    ports = anp_ports()
    with run_idp(state, folder / "idp") as idp:
        toml = anp_toml(state, ports, spool=folder / "spool.sqlite",
                        routes=[(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])])
        with run_anp(folder / "anp", toml, ports) as anp:
            yield Stack(state, anp, settings_of(state))


def make_device(state: DemoState, kind: str) -> DeviceCredential:
    """A device credential made in the IdP's store as the portal will make it."""
    now = datetime.now(UTC)
    store = Store.open(state.db_url)
    try:
        with store.session() as session:
            if kind == "tls":
                ca = UserCA.load(state.root)
                return devices.new_certificate_device(session, ca, realm=REALM, now=now, days=30)
            method = EapMethod.PEAP if kind.startswith("peap") else EapMethod.TTLS
            inner = InnerMethod.PAP if kind.endswith("pap") else InnerMethod.MSCHAPV2
            return devices.new_password_device(session, realm=REALM, now=now, days=30, method=method, inner=inner)
    finally:
        store.dispose()


def device_files(folder: Path, settings: ProfileSettings, credential: DeviceCredential) -> dict[str, Path]:
    """What a Linux device keeps next to its wpa_supplicant.conf: the CA bundle and, for TLS, cert and key."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"ca_cert": folder / "ca.pem"}
    files["ca_cert"].write_bytes(wpas.ca_bundle(settings))
    if credential.method is EapMethod.TLS:
        from cryptography.hazmat.primitives import serialization

        files["client_cert"], files["private_key"] = folder / "device.pem", folder / "device.key"
        files["client_cert"].write_bytes(credential.certificate.public_bytes(serialization.Encoding.PEM))  # type: ignore[union-attr]
        files["private_key"].write_bytes(wpas.key_pem(credential))  # type: ignore[arg-type]
    return files


def wired_block(folder: Path, settings: ProfileSettings, credential: DeviceCredential) -> str:
    files = device_files(folder, settings, credential)
    return clients.inner_block(wpas.network_block(settings, credential, wired=True, **files))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", KINDS)
def test_portal_shaped_credentials_log_in_through_the_anp(kind: str, stack: Stack, tmp_path: Path) -> None:
    credential = make_device(stack.state, kind)
    run = eapol_test(tmp_path, stack.anp.auth, wired_block(tmp_path, stack.settings, credential), name=kind)
    assert run.success, run.log[-3000:]


PROFILES = ["apple-ttls-mschapv2", "apple-ttls-pap", "apple-peap-mschapv2", "apple-tls", "android-ttls-mschapv2",
            "android-ttls-pap", "android-tls", "windows-ttls-mschapv2", "windows-ttls-pap"]


@pytest.mark.parametrize("name", PROFILES)
def test_every_profile_logs_in_with_what_it_holds(name: str, stack: Stack, tmp_path: Path) -> None:
    platform, kind = name.split("-", 1)
    credential = make_device(stack.state, kind)
    now = datetime.now(UTC)
    if platform == "apple":
        body = apple.build(stack.settings, credential, None, p12_password="device-p12").data
        network = clients.from_apple(body, tmp_path)
    elif platform == "android":
        network = clients.from_android(android.build(stack.settings, credential, now=now).data, tmp_path)
    else:
        _, signer = make_signer(now)
        body = windows.build(stack.settings, credential, signer).data
        network = clients.from_windows(body, tmp_path, list(stack.settings.ca_certificates))
    run = eapol_test(tmp_path, stack.anp.auth, network, name=name)
    assert run.success, run.log[-3000:]


@pytest.mark.parametrize("kind", ["ttls-mschapv2", "tls"])
def test_wired_login_with_the_network_block(kind: str, stack: Stack, tmp_path: Path) -> None:
    credential = make_device(stack.state, kind)
    network = wired_block(tmp_path, stack.settings, credential)
    ports = {"auth_port": stack.anp.auth, "acct_port": stack.anp.acct}
    with veth_pair() as link, hostapd(tmp_path, link, **ports) as hlog, supplicant(tmp_path, link, network) as wlog:
        try:
            wait_log(wlog, "CTRL-EVENT-EAP-SUCCESS", timeout=20)
        except TimeoutError:
            raise AssertionError(f"no EAP success\nwpas: {wlog.read_text()[-3000:]}\n"
                                 f"hostapd: {hlog.read_text()[-2000:]}") from None
        assert "CTRL-EVENT-EAP-FAILURE" not in wlog.read_text()
        wait_log(hlog, "authenticated", timeout=10)


@pytest.mark.parametrize("kind", ["ttls-mschapv2", "tls"])
def test_single_file_download_logs_in(kind: str, stack: Stack, tmp_path: Path) -> None:
    """The self-contained wpa_supplicant.conf (CA, certificate and key as blobs) used by eapol_test as is."""
    credential = make_device(stack.state, kind)
    conf = tmp_path / "openroaming.conf"
    conf.write_bytes(wpas.bundle(stack.settings, credential, wired=True, ctrl_interface=str(tmp_path / "c")).data)
    done = subprocess.run([required("eapol_test"), "-c", str(conf), "-a", "127.0.0.1", "-p", str(stack.anp.auth),
                           "-s", NAS_SECRET, "-t", "8"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout[-3000:]


@pytest.mark.parametrize("kind", ["ttls-mschapv2", "tls"])
def test_revoked_device_is_refused(kind: str, stack: Stack, tmp_path: Path) -> None:
    """revoke_device in the store: the same profile is refused once the IdP's lookup cache expires
    (30 s by default, 60 s at most); the time it took is printed (run with -s to see it)."""
    credential = make_device(stack.state, kind)
    network = wired_block(tmp_path, stack.settings, credential)
    assert eapol_test(tmp_path, stack.anp.auth, network, name="before").success
    store = Store.open(stack.state.db_url)
    try:
        with store.session() as session:
            revoked = devices.revoke_device(session, credential.username, now=datetime.now(UTC))
    finally:
        store.dispose()
    assert revoked == (1 if kind == "tls" else 0)
    started = time.monotonic()
    for attempt in range(40):  # bounded: 40 tries, about 70 s at most
        run = eapol_test(tmp_path, stack.anp.auth, network, name=f"after-{attempt}")
        if not run.success:
            break
        time.sleep(1)
    else:
        raise AssertionError("the revoked device still logs in after 40 tries")
    print(f"revoked {kind} device refused after {time.monotonic() - started:.1f} s")
    assert time.monotonic() - started < 61
