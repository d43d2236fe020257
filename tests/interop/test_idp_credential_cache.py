"""Issue 9.7: a credential check is a question the EAP method returns. The running IdP answers it from
its cache on the event loop when it can, and goes to a worker thread (a store read, a password hash)
only on a miss. Checked with eapol_test against `idp serve`, through the IdP's own metrics: the
replies sent from a worker (``tsunagaru_idp_request_seconds{path="worker"}``) grow by one on a method's
first login and not at all on a repeat within the cache's lifetime."""

from __future__ import annotations

import re
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.eap.eapol import eapol_test
from tests.support.idp_process import TLS12, IdpRun, demo, idp_process, tls_block, tunnel_block
from tests.support.procs import free_port, need
from tsunagaru.demo_state import DemoState

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[IdpRun, int]]:
    need("eapol_test")
    state = demo(tmp_path_factory.mktemp("idp-state"))
    metrics = free_port(socket.SOCK_STREAM)
    with idp_process(state, tmp_path_factory.mktemp("idp"), radsec=False, cache_ttl=60,
                     metrics_port=metrics) as run:
        yield run, metrics


def _worker_replies(metrics_port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found = re.search(r'^tsunagaru_idp_request_seconds_count\{path="worker"\} ([0-9.e+]+)$', text, re.M)
    return int(float(found[1])) if found else 0


def _block(state: DemoState, method: str) -> str:
    return tls_block(state, TLS12) if method == "tls" else tunnel_block(state, method)


# PEAP first: its NT hash lookup loads the user; TTLS/PAP then finds the user cached but still hashes once.
@pytest.mark.parametrize("method", ["peap-mschapv2", "ttls-pap", "ttls-mschapv2", "tls"])
def test_a_repeat_login_needs_no_worker(tmp_path: Path, served: tuple[IdpRun, int], method: str) -> None:
    run, metrics = served
    before = _worker_replies(metrics)
    first = eapol_test(tmp_path, run.udp_port, _block(run.state, method), name="first")
    assert first.success, first.log[-3000:]
    after_first = _worker_replies(metrics)
    # ttls-mschapv2 comes after peap-mschapv2: the user (and so the NT hash) is cached already
    assert after_first - before == (0 if method == "ttls-mschapv2" else 1), (before, after_first)
    again = eapol_test(tmp_path, run.udp_port, _block(run.state, method), name="again")
    assert again.success, again.log[-3000:]
    assert _worker_replies(metrics) == after_first
