"""AP health against traffic that stops (issue 13, "Checked by"): logins from a registry AP go through a real
ANP (``tsunagaru anp run``, activity into the registry's store) to our IdP; the health rule over the ANP's
own rows says the AP is up; when the traffic stops it is down once ``down_after`` has passed (time passed
in to the rule and the alert job; ``down_after`` is 20 s here) and an ``ap:ID`` alert starts; traffic again:
up, and the alert ends. Every wait is a bounded poll of the rule over the store, no timed assertion."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.support.anp_stack import anp_ports, anp_toml, exchange, make_state, pap_request, run_anp, run_idp
from tests.web.seed import seed
from tsunagaru.demo_state import PASSWORD, REALM, USER
from tsunagaru.ops.health import ApState, SiteState, Thresholds
from tsunagaru.ops.jobs import alerts_job
from tsunagaru.radius import Code
from tsunagaru.store import Store
from tsunagaru.store.ops_tables import ActivityRow, AlertRow, IdpPeerRow
from tsunagaru.web.dashboard.fleet import compute

pytestmark = [pytest.mark.interop, pytest.mark.timeout(240)]
INTERVAL = 10
START = 60.0  # bound on a process start: the shared machine runs at load average 10-40
DOWN_AFTER = 20
NAS_ID = b"ap-test-1"  # the seeded Shinjuku AP's NAS-Identifier: the ANP's key loopback/ap-test-1 places it


def ap_state(store: Store, ap: str, want: ApState, t: Thresholds, bound: float = 90.0) -> datetime:
    """Poll (bounded) the health rule over the ANP's rows at the wall clock until the AP is ``want``."""
    started = time.monotonic()
    seen = None
    while time.monotonic() - started < bound:
        now = datetime.now(UTC)
        with store.session() as db:
            health = compute(db, now, t).ap(ap)
        seen = health.state if health else None
        if seen is want:
            return now
        time.sleep(0.5)
    raise AssertionError(f"AP {ap} never {want.value} within {bound:.0f} s (last {seen})")


def peer_row(store: Store, bound: float = 30.0) -> IdpPeerRow:
    started = time.monotonic()
    while time.monotonic() - started < bound:
        with store.session() as db:
            row = db.scalars(select(IdpPeerRow).where(IdpPeerRow.realm == REALM)).first()
            if row is not None and row.last_reply is not None:
                db.expunge(row)
                return row
        time.sleep(0.5)
    raise AssertionError(f"no peer row for {REALM} within {bound:.0f} s")


def test_health_follows_traffic_that_stops(tmp_path: Path) -> None:
    state = make_state(tmp_path / "state")
    url = f"sqlite:///{tmp_path / 'registry.sqlite'}"
    store = Store.open(url)
    with store.session() as db:
        seeded = seed(db)
    ap, site = str(seeded.shinjuku_ap), str(seeded.shinjuku_site)
    ports = anp_ports()
    t = Thresholds(down_after=timedelta(seconds=DOWN_AFTER))  # configurable: seconds here, minutes in production
    try:
        with contextlib.ExitStack() as stack:
            idp = stack.enter_context(run_idp(state, tmp_path / "idp", start_timeout=START))
            toml = anp_toml(state, ports, spool=tmp_path / "spool.sqlite",
                            routes=[(REALM, [f"127.0.0.1:{idp.radsec}/{REALM}"])]).replace(
                "\n[tls]", f'activity_db = "{url}"\nactivity_interval = {INTERVAL}\n'
                           f'activity_key_file = "{tmp_path / "activity.key"}"\n\n[tls]', 1)
            anp = stack.enter_context(run_anp(tmp_path / "anp", toml, ports, start_timeout=START))
            job = alerts_job(store, t)

            def login(n: int) -> None:
                for i in range(n):
                    reply, _ = exchange(anp.auth, pap_request(f"{USER}@{REALM}", PASSWORD, i, nas_identifier=NAS_ID))
                    assert reply is not None and reply.code == Code.ACCESS_ACCEPT

            login(3)
            up = ap_state(store, ap, ApState.UP, t)  # once the ANP's interval with the logins is written
            with store.session() as db:
                assert compute(db, up, t).site_state(site) == SiteState.OK.value
                assert db.scalar(select(func.sum(ActivityRow.accepts))) == 3
            job(up)
            static = peer_row(store)  # the same batches carry the static route's peer, seen on the relay path
            assert (static.found, static.state, static.port) == ("static", "up", idp.radsec)
            assert static.timeouts == 0 and static.last_reply is not None

            # the traffic stops: nothing more is sent, and once down_after has passed the AP is down
            down = ap_state(store, ap, ApState.DOWN, t)
            with store.session() as db:
                fleet = compute(db, down, t)
            health = fleet.ap(ap)
            assert health is not None and "reachable" in health.failing
            assert fleet.site_state(site) == SiteState.CRITICAL.value  # its only AP is unreachable
            job(down)
            with store.session() as db:
                alert = db.scalars(select(AlertRow).where(AlertRow.subject == f"ap:{ap}")).one()
                assert (alert.state, alert.started_at, alert.ended_at, alert.site_id) == \
                    ("down", down, None, seeded.shinjuku_site)

            # traffic again: the ANP's next row makes it up, and the alert ends at the job's time
            login(2)
            back = ap_state(store, ap, ApState.UP, t)
            job(back)
            with store.session() as db:
                alert = db.scalars(select(AlertRow).where(AlertRow.subject == f"ap:{ap}")).one()
                assert (alert.started_at, alert.ended_at) == (down, back)
                assert db.scalar(select(func.sum(ActivityRow.accepts))) == 5
    finally:
        store.dispose()
    print(f"traffic that stops: down {(down - up).total_seconds():.1f} s after up (down_after {DOWN_AFTER} s), "
          f"up {(back - down).total_seconds():.1f} s after the traffic resumed (activity interval {INTERVAL} s)")
