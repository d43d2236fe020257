"""Our IdP backed by a real PostgreSQL: users, certificates and accounting in the database server."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests.eap.eapol import eapol_test
from tests.support.idp_process import TLS13, demo, idp_process, tls_block, tunnel_block
from tests.support.pgserver import PgServer
from tests.support.procs import need
from tests.support.store_backends import pg_server  # noqa: F401  (the session's PostgreSQL fixture)
from tsunagaru.demo_state import PASSWORD, REALM, USER
from tsunagaru.idp import users
from tsunagaru.idp.user_ca import UserCA
from tsunagaru.store import Store

pytestmark = pytest.mark.interop


def test_eapol_with_postgresql_store(tmp_path: Path, pg_server: PgServer) -> None:  # noqa: F811
    need("eapol_test")
    state = demo(tmp_path / "state")
    now = datetime.now(UTC)
    with pg_server.database() as url:
        store = Store.open(url)
        try:
            with store.session() as s:
                users.add_user(s, USER, now=now, password=PASSWORD, realm=REALM, mschapv2=True)
            with store.session() as s:
                cert, key = users.issue_certificate(s, UserCA.load(state.root), USER, days=30, now=now)
        finally:
            store.dispose()
        cert_path, key_path = tmp_path / "pg-alice.pem", tmp_path / "pg-alice.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        with idp_process(state, tmp_path / "idp", db_url=url, radsec=False) as idp:
            pap = eapol_test(tmp_path, idp.udp_port, tunnel_block(state, "ttls-pap"), name="pap")
            peap = eapol_test(tmp_path, idp.udp_port, tunnel_block(state, "peap-mschapv2"), name="peap")
            tls = eapol_test(tmp_path, idp.udp_port, tls_block(state, TLS13, cert=cert_path, key=key_path),
                             name="tls")
    for run in (pap, peap, tls):
        assert run.success, run.log[-3000:]
