"""wpa_supplicant (wired driver, own namespace) -> hostapd (wired) -> our ANP -> RadSec -> our IdP.

The whole chain with real, independent clients, as in /work/shared/recipes/wired-8021x.md: the
supplicant speaks EAPOL over a veth pair, hostapd turns it into RADIUS to the ANP process, the ANP
forwards over RadSec (federation PKI both ways) to our IdP process. Success is the supplicant's
CTRL-EVENT-EAP-SUCCESS; hostapd's accounting then reaches the IdP through the spool.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.anp_stack import (
    AnpProcess,
    IdpProcess,
    anp_ports,
    anp_toml,
    make_state,
    run_anp,
    run_idp,
)
from tests.support.procs import wait_log
from tests.support.wired import hostapd, supplicant, veth_pair
from tsunagaru.demo_state import PASSWORD, REALM, USER, DemoState

pytestmark = pytest.mark.timeout(120)


@dataclass
class Stack:
    state: DemoState
    idp: IdpProcess
    anp: AnpProcess


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("wired")
    state = make_state(folder / "state")
    ports = anp_ports()
    with run_idp(state, folder / "idp") as idp:
        toml = anp_toml(state, ports, spool=folder / "spool.sqlite",
                        routes=[(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])])
        with run_anp(folder / "anp", toml, ports) as anp:
            yield Stack(state, idp, anp)


def starts(state: DemoState) -> int:
    """Accounting-Start records (Acct-Status-Type 1) the IdP has stored."""
    with contextlib.closing(sqlite3.connect(state.path("idp.sqlite"))) as db:
        (n,) = db.execute("SELECT count(*) FROM idp_accounting WHERE status_type = 1").fetchone()
    return int(n)


def networks(state: DemoState) -> dict[str, str]:
    ca = state.path("ca.pem")
    return {
        "ttls-mschapv2": f'key_mgmt=IEEE8021X\neap=TTLS\nidentity="{USER}@{REALM}"\n'
                         f'anonymous_identity="anonymous@{REALM}"\npassword="{PASSWORD}"\n'
                         f'phase2="auth=MSCHAPV2"\nca_cert="{ca}"\neapol_flags=0',
        "tls": f'key_mgmt=IEEE8021X\neap=TLS\nidentity="{USER}@{REALM}"\nca_cert="{ca}"\n'
               f'client_cert="{state.path("alice.pem")}"\nprivate_key="{state.path("alice.key")}"\neapol_flags=0',
    }


@pytest.mark.parametrize("method", ["ttls-mschapv2", "tls"])
def test_supplicant_through_hostapd_and_anp(method: str, stack: Stack, tmp_path: Path) -> None:
    before = starts(stack.state)
    ports = {"auth_port": stack.anp.auth, "acct_port": stack.anp.acct}
    with veth_pair() as link, hostapd(tmp_path, link, **ports) as hlog, \
            supplicant(tmp_path, link, networks(stack.state)[method]) as wlog:
        try:
            wait_log(wlog, "CTRL-EVENT-EAP-SUCCESS", timeout=20)
        except TimeoutError:
            raise AssertionError(f"no EAP success\nwpas: {wlog.read_text()[-3000:]}\n"
                                 f"hostapd: {hlog.read_text()[-2000:]}\n"
                                 f"anp: {stack.anp.log.read_text()[-1500:]}") from None
        assert "CTRL-EVENT-EAP-FAILURE" not in wlog.read_text()
        wait_log(hlog, "authenticated", timeout=10)
        deadline = time.monotonic() + 10  # hostapd's Accounting-Start travels through the spool
        while starts(stack.state) <= before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert starts(stack.state) > before, "hostapd's Accounting-Start did not reach the IdP"
