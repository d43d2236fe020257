"""The demo's state folder: a two-root test federation, the IdP's EAP CA, the demo user, the
discovery zone and the ANP's configuration. Made once, reused on the next run (idempotent).

Layout (the demo contract in DESIGN.md names the first five):
  federation-roots.pem   both federation roots (RadSec peers trust them side by side)
  ca.pem                 the EAP server's CA: what a device profile trusts
  alice.pem alice.key alice.p12   the demo user's EAP-TLS credential (PKCS#12 with an empty password)
  anp.pem/.key           ANP member certificate (hub: clientAuth to IdPs, serverAuth to RadSec APs),
                         issued under the second root
  idp-radsec.pem/.key    IdP member certificate (serverAuth, NAIRealm idp.tsunagaru.test)
  eap-server.pem/.key    the IdP's EAP server certificate; user-ca.pem signs user certificates
  idp.sqlite             users, certificates, accounting;  cui.key  the IdP's CUI key
  log.key                the installation's key for redacted identities in logs and stored user hashes
  demo.zone              RFC 7585 records for idp.tsunagaru.test;  anp.toml  the proxy's configuration
  ap-ca/                 the city's own CA for RadSec access points (never the federation's); ap.pem/.key
                         an access point's certificate under it (clientAuth, ap-1.aps.tsunagaru.test)
  idp.toml               the IdP's configuration (what `tsunagaru idp serve` would run)

Everything secret (keys, PKCS#12, the database, the spool, the ANP's file with the NAS secret) is 0600
from its first byte and every folder is 0700 (:mod:`tsunagaru.secretfile`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tsunagaru.discovery import demo_zone_text
from tsunagaru.idp import users
from tsunagaru.idp.user_ca import UserCA
from tsunagaru.pki import FederationPKI, issue_server_certificate, make_eap_ca, write_cert_and_key, write_pem_bundle
from tsunagaru.secretfile import private_dir, read_or_create_key, write_private, write_public
from tsunagaru.store import Store

REALM = "idp.tsunagaru.test"
DISASTER_REALM = "disaster.idp.tsunagaru.test"  # the city's disaster credential (accepted only inside an incident)
USER = "alice"
PASSWORD = "alice-password"
ANP_WBAID = "TSUNAGARU:JP"
IDP_WBAID = "TSUNAGARUIDP:JP"
NAS_SECRET = "testing123"
LOG_KEY = "log.key"


@dataclass(frozen=True, slots=True)
class DemoPorts:
    host: str = "127.0.0.1"
    auth: int = 1812
    acct: int = 1813
    idp_radsec: int = 2083
    idp_udp: int = 11812
    anp_radsec: int = 12083
    anp_metrics: int = 9812
    idp_metrics: int = 9813


@dataclass(frozen=True, slots=True)
class DemoState:
    root: Path

    def path(self, name: str) -> Path:
        return self.root / name

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.path('idp.sqlite')}"

    @property
    def cui_key(self) -> bytes:
        return self.path("cui.key").read_bytes()


def prepare(root: Path, now: datetime, ports: DemoPorts) -> DemoState:
    state = DemoState(private_dir(root).resolve())
    _federation(state, now)
    _ap_ca(state, now)
    _eap(state, now)
    _users(state, now)
    read_or_create_key(state.path("cui.key"))
    read_or_create_key(state.path(LOG_KEY))
    write_public(state.path("demo.zone"), demo_zone_text(REALM, ports.host, ports.idp_radsec).encode())
    write_private(state.path("anp.toml"), anp_config(state, ports).encode())  # holds the NAS secret
    write_private(state.path("idp.toml"), idp_config(state, ports).encode())
    for folder in (state.root, *(p for p in state.root.rglob("*") if p.is_dir())):
        private_dir(folder)
    return state


def _federation(state: DemoState, now: datetime) -> None:
    if state.path("federation-roots.pem").exists():
        for folder in ("federation", "federation-2"):  # fresh CRLs on every start (they last 7 days)
            FederationPKI.load(state.path(folder)).publish_crl(now)
        return
    legacy = FederationPKI.create(state.path("federation"), "Tsunagaru Demo Federation", now)
    new = FederationPKI.create(state.path("federation-2"), "Tsunagaru Demo Federation 2", now)
    # hub role (clientAuth + serverAuth): the ANP is a client to IdPs and a server to RadSec access points
    new.issue_member("anp.tsunagaru.test", ANP_WBAID, "hub", now=now, out_prefix=state.path("anp"))
    legacy.issue_member("idp.tsunagaru.test", IDP_WBAID, "idp", now=now, realms=[REALM],
                        out_prefix=state.path("idp-radsec"))
    write_pem_bundle(state.path("federation-roots.pem"), [legacy.root.cert, new.root.cert])


AP_NAME = "ap-1.aps.tsunagaru.test"


def _ap_ca(state: DemoState, now: datetime) -> None:
    """A separate CA for RadSec access points: the ANP trusts it (and only it) for APs."""
    if state.path("ap-ca").exists():
        FederationPKI.load(state.path("ap-ca")).publish_crl(now)
        return
    ca = FederationPKI.create(state.path("ap-ca"), "Tsunagaru Demo City AP CA", now)
    ca.issue_member(AP_NAME, ANP_WBAID, "anp", now=now, out_prefix=state.path("ap"))


def _eap(state: DemoState, now: datetime) -> None:
    if state.path("ca.pem").exists():
        return
    ca = make_eap_ca("Tsunagaru Demo IdP", now)
    server = issue_server_certificate(ca, REALM, now)
    write_cert_and_key(server, state.path("eap-server.pem"), state.path("eap-server.key"))
    write_cert_and_key(ca, state.path("ca.pem"), state.path("ca.key"))


def _users(state: DemoState, now: datetime) -> None:
    if state.path("alice.p12").exists():
        return
    from cryptography.hazmat.primitives import serialization

    store = Store.open(state.db_url)
    ca = UserCA.load_or_create(state.root, now=now)
    with store.session() as s:
        try:
            users.get_user(s, USER)
        except users.UnknownUser:
            users.add_user(s, USER, now=now, password=PASSWORD, realm=REALM, mschapv2=True)
    with store.session() as s:
        cert, key = users.issue_certificate(s, ca, USER, days=365, now=now)
    store.dispose()
    write_public(state.path("alice.pem"), cert.public_bytes(serialization.Encoding.PEM))
    write_private(state.path("alice.key"), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    write_private(state.path("alice.p12"), ca.to_pkcs12(cert, key, f"{USER}@{REALM}"))


def anp_config(state: DemoState, ports: DemoPorts) -> str:
    return f"""# The demo ANP proxy (written by `tsunagaru demo`; edit and send SIGHUP to reload clients and routes)
[anp]
wbaid = "{ANP_WBAID}"
offered_service = "OpenRoaming Bronze"
listen_auth = "{ports.host}:{ports.auth}"
listen_acct = "{ports.host}:{ports.acct}"
listen_radsec = "{ports.host}:{ports.anp_radsec}"
request_timeout = 4.0
metrics = "{ports.host}:{ports.anp_metrics}"
spool = "{state.path('anp-spool.sqlite')}"
disaster_realms = ["{DISASTER_REALM}"]   # forwarded only from clients with disaster_until ahead, else 42
clients_db = "{state.db_url}"   # the registry's APs are the clients (demo APs 127.0.1.N, the simulator's 127.2.x.y)
clients_secrets = "{state.path('secrets')}"
clients_poll = 2                # an AP added or removed, an incident declared or ended: served within ~2 s
activity_db = "{state.db_url}"   # per-AP activity for the dashboard (the registry's store)
activity_interval = 30                   # demo: seconds per record, so the map is live within a minute
activity_key_file = "{state.path('activity.key')}"

[tls]
certificate = "{state.path('anp.pem')}"
key = "{state.path('anp.key')}"
roots = ["{state.path('federation-roots.pem')}"]
crls = ["{state.path('federation/crl.pem')}", "{state.path('federation-2/crl.pem')}"]
ap_roots = ["{state.path('ap-ca/root.pem')}"]
ap_crls = ["{state.path('ap-ca/crl.pem')}"]

[discovery]
zone_file = "{state.path('demo.zone')}"

[[clients]]                     # the demo contract's NAS (eapol_test, radclient); every other AP is in the registry
name = "demo-nas"
network = "127.0.0.1/32"
secret = "{NAS_SECRET}"
certificate_name = "*.aps.tsunagaru.test"   # RadSec APs: identified by their certificate

[[routes]]                                  # the disaster credential's realm is served by the same IdP
realm = "{DISASTER_REALM}"
peers = ["{ports.host}:{ports.idp_radsec}/{REALM}"]
"""


def idp_config(state: DemoState, ports: DemoPorts) -> str:
    return f"""# The demo IdP (written by `tsunagaru demo`; the same file runs with `tsunagaru idp serve -c idp.toml`)
[idp]
realms = ["{REALM}", "{DISASTER_REALM}"]
db = "{state.db_url}"
eap_certificate = "{state.path('eap-server.pem')}"
eap_key = "{state.path('eap-server.key')}"
user_ca = "{state.path('user-ca.pem')}"
cui_key_file = "{state.path('cui.key')}"
log_key_file = "{state.path(LOG_KEY)}"
wbaid = "{IDP_WBAID}"
metrics = "{ports.host}:{ports.idp_metrics}"

[radsec]
listen = "{ports.host}:{ports.idp_radsec}"
certificate = "{state.path('idp-radsec.pem')}"
key = "{state.path('idp-radsec.key')}"
roots = ["{state.path('federation-roots.pem')}"]
crls = ["{state.path('federation/crl.pem')}", "{state.path('federation-2/crl.pem')}"]

[udp]
listen = "{ports.host}:{ports.idp_udp}"
secret = "{NAS_SECRET}"
allowed = "127.0.0.0/8"
"""
