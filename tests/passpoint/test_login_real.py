"""One real Passpoint login: wpa_supplicant (own namespace, wired) -> hostapd running our rendered config
(RADIUS settings as rendered) -> our ANP -> RadSec -> our IdP. A recording relay in front of the ANP shows
the NAS-Identifier, Operator-Name and CUI request hostapd sent; the ANP itself admits the client only
with the rendered NAS-Identifier (its client table requires that exact value)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from tests.passpoint.goldens import NOW, description
from tests.passpoint.hostapd_run import hostapd_binary, split_bsses, wired, wired_link
from tests.passpoint.relay import relay
from tests.support.anp_stack import anp_ports, anp_toml, make_state, run_anp, run_idp
from tests.support.procs import running, wait_log
from tsunagaru.demo_state import NAS_SECRET, PASSWORD, REALM, USER
from tsunagaru.passpoint.model import DisasterState, RadiusEndpoint
from tsunagaru.passpoint.plan import plan_ap
from tsunagaru.passpoint.render.hostapd import render_hostapd
from tsunagaru.radius import Packet

pytestmark = pytest.mark.timeout(150)
NAS_IDENTIFIER, OPERATOR_NAME, CUI, MESSAGE_AUTHENTICATOR, ACCESS_REQUEST = 32, 126, 89, 80, 1


def test_supplicant_hostapd_anp_idp_with_rendered_radius(tmp_path: Path) -> None:
    hostapd_binary()
    state = make_state(tmp_path / "state")
    ports = anp_ports()
    desc = description("city-facility")
    with run_idp(state, tmp_path / "idp") as idp, relay(ports.auth) as auth_relay, relay(ports.acct) as acct_relay:
        endpoint = RadiusEndpoint("127.0.0.1", "anp", auth_relay.port, acct_relay.port)
        operator = dataclasses.replace(desc.operator, radius=endpoint)
        plan = plan_ap(operator, desc.site, desc.ap, DisasterState(), NOW)
        conf = render_hostapd(plan, {"anp": NAS_SECRET})["hostapd-radio0.conf"].decode()
        nas_id = plan.radios[0].bsses[0].radius.nas_identifier  # type: ignore[union-attr]
        assert re.fullmatch(r"[A-Za-z0-9-]+", nas_id)  # a literal full-match pattern for the ANP's client table
        routes = [(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])]
        toml = anp_toml(state, ports, spool=tmp_path / "spool.sqlite", routes=routes,
                        client_options=f"nas_identifier = '{nas_id}'")
        with run_anp(tmp_path / "anp", toml, ports) as anp, wired_link(station_namespace=True) as link:
            radio, bsses = split_bsses(conf)
            text = wired(radio + bsses[0], link, (auth_relay.port, acct_relay.port), proxy_arp=False)
            hconf = tmp_path / "hostapd.conf"
            hconf.write_text(text, encoding="utf-8")
            hlog = tmp_path / "hostapd.log"
            network = (f'key_mgmt=IEEE8021X\neap=TTLS\nidentity="{USER}@{REALM}"\n'
                       f'anonymous_identity="anonymous@{REALM}"\npassword="{PASSWORD}"\nphase2="auth=MSCHAPV2"\nca_cert="{state.path("ca.pem")}"\neapol_flags=0')
            wconf = tmp_path / "wpas.conf"
            wconf.write_text(f"ctrl_interface={link.sockets / 'wpas'}\nap_scan=0\nnetwork={{\n{network}\n}}\n")
            wlog = tmp_path / "wpas.log"
            with running([hostapd_binary(), "-d", str(hconf)], hlog) as hproc:
                wait_log(hlog, "AP-ENABLED", timeout=10, proc=hproc)
                argv = ["ip", "netns", "exec", link.namespace, "wpa_supplicant", "-D", "wired", "-i", link.sta,
                        "-c", str(wconf), "-d"]
                with running(argv, wlog):
                    try:
                        wait_log(wlog, "CTRL-EVENT-EAP-SUCCESS", timeout=30)
                    except TimeoutError:
                        raise AssertionError(f"no EAP success\nwpas: {wlog.read_text()[-2500:]}\n"
                                             f"hostapd: {hlog.read_text()[-2500:]}\n"
                                             f"anp: {anp.log.read_text()[-1500:]}") from None
    requests = [Packet.from_bytes(d) for d in auth_relay.seen]
    access = [p for p in requests if p.code == ACCESS_REQUEST]
    assert access, "hostapd sent no Access-Request"
    for packet in access:
        assert packet.get(NAS_IDENTIFIER) == nas_id.encode()
        assert packet.get(OPERATOR_NAME) == b"4TSUNAGARU:JP"
        assert packet.get(MESSAGE_AUTHENTICATOR) is not None
    assert access[0].get(CUI) == b"\x00", "the first Access-Request must ask for a CUI (a single NUL)"
    accounting = [Packet.from_bytes(d) for d in acct_relay.seen]
    assert any(p.get(OPERATOR_NAME) == b"4TSUNAGARU:JP" for p in accounting), "Operator-Name in accounting"
