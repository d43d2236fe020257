"""Stored alert history: the alert job opens alerts from the health rules and closes them when the state
recovers (times from the job's ``now``), and the alert list and the AP and site pages show them per role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.web.conftest import token_for
from tests.web.dashboard.fleetdata import add_fleet
from tests.web.seed import Seeded
from tsunagaru.ops import jobs
from tsunagaru.ops.alert_history import list_alerts
from tsunagaru.sites.scope import Principal, Role
from tsunagaru.store.ops_tables import ActivityRow, AlertRow
from tsunagaru.store.registry_tables import AccessPoint, Site


def test_alerts_open_close_and_are_scoped(app_client: tuple[TestClient, Seeded]) -> None:
    client, seeded = app_client
    store = client.app.state.ctx.store  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    with store.session() as db:
        ap_ids = add_fleet(db, 60, now, operator_id=seeded.booth_org)
    run = jobs.alerts_job(store)
    assert "started" in run(now)
    with store.session() as db:
        open_ = list(db.scalars(select(AlertRow).where(AlertRow.ended_at.is_(None))))
        subjects = {a.subject for a in open_}
        down = [a for a in open_ if a.state == "down" and a.ap_id in ap_ids]
        assert down and all(a.started_at == now and a.site_id for a in down)
        assert any(s.startswith("site:") for s in subjects)
    again = run(now + timedelta(minutes=1))
    assert again.startswith("0 started, 0 ended")  # nothing changed: no duplicates
    # one down AP comes back: its alert ends at the job's time, and only that one
    back = down[0].ap_id
    later = now + timedelta(minutes=2)
    with store.session() as db:
        db.execute(update(ActivityRow).where(ActivityRow.ap_key == f"ap-{back}")
                   .values(last_request=later, interval_start=later.replace(second=0, microsecond=0), rejects=0))
    run(later)
    with store.session() as db:
        rows = list(db.scalars(select(AlertRow).where(AlertRow.subject == f"ap:{back}")))
        assert len(rows) == 1 and rows[0].ended_at == later and rows[0].started_at == now
        # an AP taken out of the registry: its open alert ends too (it is "gone")
        gone = down[1].ap_id
        db.execute(update(AccessPoint).where(AccessPoint.id == gone).values(state="retired"))
    run(later + timedelta(minutes=1))
    with store.session() as db:
        assert db.scalar(select(AlertRow.ended_at).where(AlertRow.subject == f"ap:{gone}")) is not None
        admin = list_alerts(db, Principal("a", Role.CITY_ADMIN), limit=1000)
        booth = list_alerts(db, Principal("b", Role.SITE_OPERATOR, organisation_id=seeded.booth_org), limit=1000)
        ward = list_alerts(db, Principal("s", Role.MUNICIPALITY_OPERATOR, municipality_code="131041"), limit=1000)
        nobody = list_alerts(db, Principal("x", Role.SITE_OPERATOR), limit=1000)
        site_org = dict(db.execute(select(Site.id, Site.operator_id)).all())
        site_code = dict(db.execute(select(Site.id, Site.municipality_code)).all())
    assert admin and booth and ward and nobody == []
    assert all(site_org[a.site_id] == seeded.booth_org for a in booth) and len(booth) < len(admin)
    assert all(site_code[a.site_id] == "131041" for a in ward)
    assert admin[0].open  # open ones first

    page = client.get("/dashboard/alerts", headers=token_for(client, "booth") | {"Accept-Language": "ja"})
    assert page.status_code == 200 and "アラート履歴" in page.text
    assert page.text.count('class="alert-open"') + page.text.count('class="alert-ended"') == len(booth)
    page = client.get(f"/dashboard/aps/{back}", headers=token_for(client, "admin") | {"Accept-Language": "en"})
    assert page.status_code == 200 and "Alert history" in page.text and 'class="alert-ended"' in page.text
    site = next(a.site_id for a in admin if a.ap_id == back)
    page = client.get(f"/dashboard/sites/{site}", headers=token_for(client, "admin") | {"Accept-Language": "ja"})
    assert page.status_code == 200 and "アラート履歴" in page.text and "alert-history" in page.text
