"""Certificate rotation on the EAP server, with eapol_test against our IdP and profiles made beforehand.

Profiles trust the EAP CA and pin the server *name*, so:
1. a new server certificate from the same CA (new key, new serial) breaks no profile;
2. during a CA rotation, profiles made in the overlap trust both CAs, and profiles made before it
   still log in while the server keeps a certificate from the old CA;
3. once the server switches to the new CA, overlap profiles log in and the old ones are refused:
   the overlap has to outlast the renewal of every old profile (docs/profiles.md);
4. a server certificate with the right CA but another name, or the right name from another CA,
   is refused by every profile (what makes a fake AP fail).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.eap.eapol import eapol_test
from tests.passpoint.profiles import clients
from tests.passpoint.profiles.conftest import required
from tests.passpoint.profiles.test_logins import make_device, settings_of, wired_block
from tests.support.anp_stack import make_state, run_idp
from tsunagaru.demo_state import REALM, DemoState
from tsunagaru.passpoint.profiles import apple
from tsunagaru.passpoint.profiles.model import ProfileSettings
from tsunagaru.pki.build import CertKey
from tsunagaru.pki.eapca import issue_server_certificate, make_eap_ca
from tsunagaru.pki.pem import load_cert_and_key, write_cert_and_key

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]


def serve_with(state: DemoState, server: CertKey) -> None:
    """Install ``server`` as the IdP's EAP server certificate (read when the IdP starts)."""
    write_cert_and_key(server, state.path("eap-server.pem"), state.path("eap-server.key"))


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> DemoState:
    required("eapol_test")
    return make_state(tmp_path_factory.mktemp("rotation") / "state")


def logs_in(state: DemoState, folder: Path, network: str, name: str) -> bool:
    with run_idp(state, folder / f"idp-{name}") as idp:
        run = eapol_test(folder, idp.udp, network, name=name)
    if not run.success:  # refused by the client's certificate check, not by anything else
        assert "CTRL-EVENT-EAP-TLS-CERT-ERROR" in run.log, run.log[-2000:]
    return run.success


def test_server_and_ca_rotation(state: DemoState, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    old_ca = load_cert_and_key(state.path("ca.pem"), state.path("ca.key"))
    old_settings = settings_of(state)
    ttls, tls = make_device(state, "ttls-mschapv2"), make_device(state, "tls")
    old = {"wpa-ttls": wired_block(tmp_path / "o1", old_settings, ttls),
           "wpa-tls": wired_block(tmp_path / "o2", old_settings, tls),
           "apple-ttls": _apple(old_settings, ttls, tmp_path / "o3")}

    # 1. server certificate renewed under the same CA: nothing is rebuilt, everything still logs in
    renewed = issue_server_certificate(old_ca, REALM, now)
    serve_with(state, renewed)
    for name, network in old.items():
        assert logs_in(state, tmp_path, network, f"renewed-{name}"), name

    # 2. CA rotation, overlap: new profiles trust old + new; the server still uses the old CA
    new_ca = make_eap_ca("Tsunagaru Demo IdP 2027", now)
    overlap_settings = ProfileSettings(
        realm=old_settings.realm, home_fqdn=old_settings.home_fqdn, friendly_names=old_settings.friendly_names,
        ca_certificates=(old_ca.cert, new_ca.cert), server_names=old_settings.server_names)
    overlap = {"wpa-ttls": wired_block(tmp_path / "n1", overlap_settings, ttls),
               "wpa-tls": wired_block(tmp_path / "n2", overlap_settings, tls),
               "apple-ttls": _apple(overlap_settings, ttls, tmp_path / "n3")}
    for name, network in {**{f"old-{k}": v for k, v in old.items()},
                          **{f"overlap-{k}": v for k, v in overlap.items()}}.items():
        assert logs_in(state, tmp_path, network, f"during-{name}"), name

    # 3. the server switches to the new CA: overlap profiles keep working, old ones are refused
    serve_with(state, issue_server_certificate(new_ca, REALM, now))
    for name, network in overlap.items():
        assert logs_in(state, tmp_path, network, f"switched-overlap-{name}"), name
    assert not logs_in(state, tmp_path, old["wpa-ttls"], "switched-old-wpa-ttls")

    # 4. a trusted CA with another name, or the right name from an untrusted CA: refused
    serve_with(state, issue_server_certificate(new_ca, "evil.tsunagaru.test", now))
    assert not logs_in(state, tmp_path, overlap["wpa-ttls"], "wrong-name")
    assert "Domain suffix mismatch" in (tmp_path / "wrong-name.log").read_text()
    assert not logs_in(state, tmp_path, overlap["apple-ttls"], "wrong-name-apple")
    rogue = make_eap_ca("Rogue", now)
    serve_with(state, issue_server_certificate(rogue, REALM, now))
    assert not logs_in(state, tmp_path, overlap["wpa-ttls"], "rogue-ca")


def _apple(settings: ProfileSettings, credential: object, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    body = apple.build(settings, credential, None).data  # type: ignore[arg-type]
    return clients.from_apple(body, folder)


@pytest.fixture(autouse=True)
def _restore(state: DemoState) -> Iterator[None]:
    saved = load_cert_and_key(state.path("eap-server.pem"), state.path("eap-server.key"))
    yield
    serve_with(state, saved)
