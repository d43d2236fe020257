"""eapol_test (wpa_supplicant's EAP peer) straight to our IdP's RADIUS/UDP port, the IdP a subprocess.

Every method must end in SUCCESS with "MPPE keys OK", and the Access-Accept must carry what
OpenRoaming asks of an IdP: a CUI when the request held a CUI NUL, WBA-Identity-Provider and a
Session-Timeout. Refusals carry the WBA Reject-Reason; revocation takes effect after the store's cache
TTL; accounting sent twice is stored once.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select

from tests.eap.eapol import eapol_test
from tests.support.idp_process import (
    CUI_REQUEST,
    TLS12,
    TLS13,
    IdpRun,
    block_for,
    demo,
    idp_process,
    reject_reason,
    reply_attributes,
    tls_block,
    tunnel_block,
)
from tests.support.procs import need
from tsunagaru.demo_state import IDP_WBAID, REALM, DemoState
from tsunagaru.idp import users
from tsunagaru.idp.user_ca import UserCA
from tsunagaru.store import IdpAccounting, Store

pytestmark = pytest.mark.interop

METHODS = ["tls12", "tls13", "ttls-pap", "ttls-mschapv2", "ttls-eap-mschapv2", "peap-mschapv2"]
CACHE_TTL = 1.0
CUI, SESSION_TIMEOUT, VSA = 89, 27, 26
WBA_IDP_VSA = "0000372a10" + bytes((2 + 1 + len(IDP_WBAID),)).hex() + ("4" + IDP_WBAID).encode().hex()


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> DemoState:
    need("eapol_test")
    return demo(tmp_path_factory.mktemp("idp-state"))


@pytest.fixture(scope="module")
def idp(state: DemoState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdpRun]:
    with idp_process(state, tmp_path_factory.mktemp("idp"), cache_ttl=CACHE_TTL, radsec=False) as run:
        yield run


def _accepted(run_log: str) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for attr, value in reply_attributes(run_log, 2):
        out.setdefault(attr, []).append(value)
    return out


@pytest.mark.parametrize("method", METHODS)
def test_method_succeeds_with_openroaming_attributes(tmp_path: Path, state: DemoState, idp: IdpRun,
                                                     method: str) -> None:
    run = eapol_test(tmp_path, idp.udp_port, block_for(state, method), extra=CUI_REQUEST)
    assert run.success, run.log[-3000:]
    accept = _accepted(run.log)
    assert accept.get(CUI) and accept[CUI][0].strip("'").startswith("cui-"), accept
    assert WBA_IDP_VSA in accept.get(VSA, []), accept
    assert accept.get(SESSION_TIMEOUT) == ["3600"], accept
    if method == "tls13":
        assert "Using TLS version TLSv1.3" in run.log


def test_no_cui_unless_requested(tmp_path: Path, state: DemoState, idp: IdpRun) -> None:
    run = eapol_test(tmp_path, idp.udp_port, block_for(state, "ttls-pap"))
    assert run.success, run.log[-3000:]
    assert CUI not in _accepted(run.log)


def test_cui_is_stable_per_user_and_operator(tmp_path: Path, state: DemoState, idp: IdpRun) -> None:
    """The same user seen through EAP-TLS and TTLS gets the same CUI from the same visited operator."""
    first = eapol_test(tmp_path, idp.udp_port, block_for(state, "tls12"), extra=CUI_REQUEST, name="a")
    second = eapol_test(tmp_path, idp.udp_port, block_for(state, "peap-mschapv2"), extra=CUI_REQUEST, name="b")
    other_operator = eapol_test(tmp_path, idp.udp_port, block_for(state, "tls12"),
                                extra=("-N89:x:00", "-N126:s:4OTHER:JP"), name="c")
    assert first.success and second.success and other_operator.success
    assert _accepted(first.log)[CUI] == _accepted(second.log)[CUI] != _accepted(other_operator.log)[CUI]


@pytest.fixture(scope="module")
def idp_frag(state: DemoState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IdpRun]:
    with idp_process(state, tmp_path_factory.mktemp("idp-frag"), fragment_size=200, radsec=False) as run:
        yield run


@pytest.mark.parametrize("method", METHODS)
def test_method_fragmented_200(tmp_path: Path, state: DemoState, idp_frag: IdpRun, method: str) -> None:
    """Both sides cut their TLS messages into 200-octet fragments."""
    run = eapol_test(tmp_path, idp_frag.udp_port, block_for(state, method) + "\nfragment_size=200")
    assert run.success, run.log[-3000:]


@pytest.mark.parametrize("method", ["ttls-pap", "ttls-mschapv2", "peap-mschapv2"])
@pytest.mark.parametrize(("identity", "password", "reason"),
                         [(f"alice@{REALM}", "wrong", 10), (f"mallory@{REALM}", "x", 11)],
                         ids=["wrong-password", "unknown-user"])
def test_refused_with_reject_reason(tmp_path: Path, state: DemoState, idp: IdpRun, method: str,
                                    identity: str, password: str, reason: int) -> None:
    run = eapol_test(tmp_path, idp.udp_port, tunnel_block(state, method, identity=identity, password=password))
    assert not run.success and "FAILURE" in run.log
    assert reject_reason(run.log) == reason, reply_attributes(run.log, 3)
    assert identity.encode().hex() not in run.log.split("code=3 (Access-Reject)")[-1]
    assert identity not in run.log.split("code=3 (Access-Reject)")[-1], "inner identity leaked in the reject"


def _user_with_certificate(state: DemoState, folder: Path, name: str, *, now: datetime, days: int) -> tuple[Path, Path]:
    """Add ``name`` with a client certificate issued at ``now`` (the past, for an expired one)."""
    store = Store.open(state.db_url)
    try:
        with store.session() as s:
            users.add_user(s, name, now=now, password="pw-" + name, realm=REALM)
        with store.session() as s:
            cert, key = users.issue_certificate(s, UserCA.load(state.root), name, days=days, now=now)
    finally:
        store.dispose()
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.mark.parametrize("phase1", [TLS12, TLS13], ids=["tls12", "tls13"])
def test_revoked_certificate_refused_after_cache_ttl(tmp_path: Path, state: DemoState, idp: IdpRun,
                                                     phase1: str) -> None:
    name = "bob12" if phase1 == TLS12 else "bob13"
    cert, key = _user_with_certificate(state, tmp_path, name, now=datetime.now(UTC), days=30)
    block = tls_block(state, phase1, cert=cert, key=key, identity=f"{name}@{REALM}")
    before = eapol_test(tmp_path, idp.udp_port, block, name="before")
    assert before.success, before.log[-3000:]
    revoke = subprocess.run([sys.executable, "-m", "tsunagaru", "idp", "user", "revoke", name, "--db", idp.db_url],
                            capture_output=True, text=True, timeout=30)
    assert revoke.returncode == 0 and "revoked 1" in revoke.stdout, revoke.stdout + revoke.stderr
    time.sleep(CACHE_TTL + 0.2)  # the store may trust its cached lookup this long (configured in idp.toml)
    after = eapol_test(tmp_path, idp.udp_port, block, name="after")
    assert not after.success and "FAILURE" in after.log
    assert reject_reason(after.log) == 12, reply_attributes(after.log, 3)


def test_expired_certificate_refused(tmp_path: Path, state: DemoState, idp: IdpRun) -> None:
    cert, key = _user_with_certificate(state, tmp_path, "carol", now=datetime.now(UTC) - timedelta(days=40), days=30)
    run = eapol_test(tmp_path, idp.udp_port, tls_block(state, TLS12, cert=cert, key=key, identity=f"carol@{REALM}"))
    assert not run.success and "FAILURE" in run.log
    assert reject_reason(run.log) == 12, reply_attributes(run.log, 3)


def test_accounting_retransmission_stored_once(tmp_path: Path, idp: IdpRun) -> None:
    need("radclient")
    session = f"tsunagaru-acct-{time.monotonic_ns()}"
    for delay in (0, 5):
        request = (f'User-Name = "anonymous@{REALM}"\nAcct-Status-Type = Start\nAcct-Session-Id = "{session}"\n'
                   f'NAS-IP-Address = 127.0.0.1\nAcct-Delay-Time = {delay}\nOperator-Name = "4CITY:JP"\n')
        done = subprocess.run(["radclient", "-x", "-r", "1", "-t", "3", f"127.0.0.1:{idp.udp_port}", "acct",
                               "testing123"], input=request, capture_output=True, text=True, timeout=20)
        assert done.returncode == 0 and "Accounting-Response" in done.stdout, done.stdout + done.stderr
    store = Store.open(idp.db_url)
    try:
        with store.session() as s:
            count = s.scalar(select(func.count()).select_from(IdpAccounting).where(IdpAccounting.session_id == session))
    finally:
        store.dispose()
    assert count == 1
