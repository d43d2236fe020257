"""The disaster credential through a running ANP to our IdP, with eapol_test (TTLS/PAP) as the AP.

Three RADIUS clients of one ANP: ``inside`` (127.0.1.81, ``disaster_until`` an hour ahead, as the registry
export writes it for an AP in an active incident), ``ending`` (127.0.1.82, ``disaster_until`` a few seconds
ahead) and the loopback client without ``disaster_until`` (an AP outside every incident). The IdP serves
the disaster realm; the ANP forwards it only from a client whose incident has not ended, and otherwise
answers on its own with Reject-Reason 42, counted in its metrics and logged.
"""

from __future__ import annotations

import datetime
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.anp_stack import AnpProcess, anp_ports, anp_toml, make_state, run_anp, run_idp
from tests.support.procs import need
from tsunagaru.demo_state import DISASTER_REALM, NAS_SECRET, REALM
from tsunagaru.idp import users
from tsunagaru.store import Store

pytestmark = pytest.mark.interop
GUEST, GUEST_PASSWORD = "guest", "shelter-guest-password"
INSIDE, ENDING = "127.0.1.81", "127.0.1.82"
ENDING_AFTER = 25.0  # seconds from the ANP's start to the end of the "ending" client's incident
REASON_42 = 'tsunagaru_anp_reject_reasons_total{reason="42"}'


def _login(folder: Path, conf: Path, anp: AnpProcess, source: str) -> bool:
    done = subprocess.run(["eapol_test", "-c", str(conf), "-a", "127.0.0.1", "-p", str(anp.auth), "-s", NAS_SECRET,
                           "-A", source, "-t", "8", "-N", "32:s:shelter-ap"],
                          capture_output=True, text=True, timeout=30, cwd=folder)
    return done.returncode == 0 and "SUCCESS" in done.stdout


def _refused_42(folder: Path, conf: Path, anp: AnpProcess, source: str) -> None:
    before = anp.metrics().get(REASON_42, 0.0)
    assert not _login(folder, conf, anp, source), f"the disaster credential was accepted from {source}"
    assert anp.metrics().get(REASON_42, 0.0) == before + 1, "the refusal did not carry Reject-Reason 42"


def test_disaster_credential_inside_outside_and_after_the_end(tmp_path: Path) -> None:
    need("eapol_test")
    state = make_state(tmp_path / "state")
    store = Store.open(state.db_url)
    with store.session() as s:
        users.add_user(s, GUEST, now=datetime.datetime.now(datetime.UTC), password=GUEST_PASSWORD,
                       realm=DISASTER_REALM)
    store.dispose()
    conf = tmp_path / "disaster.conf"
    conf.write_text("\n".join([
        "network={", " key_mgmt=IEEE8021X", " eap=TTLS", f' identity="{GUEST}@{DISASTER_REALM}"',
        f' anonymous_identity="anonymous@{DISASTER_REALM}"', f' password="{GUEST_PASSWORD}"',
        ' phase2="auth=PAP"', f' ca_cert="{state.path("ca.pem")}"', "}", ""]))
    ports = anp_ports()
    with run_idp(state, tmp_path / "idp") as idp:
        ending = int(time.time() + ENDING_AFTER)
        text = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                        routes=[(DISASTER_REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])])
        text = text.replace('network = "127.0.0.0/8"', 'network = "127.0.0.1/32"')
        text = text.replace("[anp]\n", f'[anp]\ndisaster_realms = ["{DISASTER_REALM}"]\n', 1)
        for name, address, until in (("inside", INSIDE, int(time.time() + 3600)), ("ending", ENDING, ending)):
            text += (f'\n[[clients]]\nname = "{name}"\nnetwork = "{address}/32"\nsecret = "{NAS_SECRET}"\n'
                     f"disaster_until = {until}\n")
        with run_anp(tmp_path / "anp", text, ports) as anp:
            assert _login(tmp_path, conf, anp, INSIDE), "refused from an AP inside an active incident"
            assert _login(tmp_path, conf, anp, ENDING), "refused before the incident's end"
            _refused_42(tmp_path, conf, anp, "127.0.0.1")  # an AP in no incident
            time.sleep(max(0.0, ending + 1 - time.time()))
            _refused_42(tmp_path, conf, anp, ENDING)  # the same AP once its incident has ended
            assert _login(tmp_path, conf, anp, INSIDE), "the incident still running was affected"
            log = anp.log.read_text()
            assert "disaster credential from a client in no active incident" in log
            assert "disaster credential after the incident's end" in log
