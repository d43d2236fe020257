"""Whatever a script sends to the enrolment API, the answer is a typed error or a success, never a 500,
and a refused request stores nothing."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.web.enrol.conftest import PortalEnv
from tsunagaru.store.enrol_tables import EnrolCode, EnrolDevice

values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=300),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                   max_size=3), max_leaves=8)
bodies = st.one_of(
    st.dictionaries(st.sampled_from(["email", "lang", "code", "platform", "method", "name"]), values, max_size=6),
    values.map(lambda v: v),
).map(lambda doc: json.dumps(doc).encode()) | st.binary(max_size=400)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(["/api/v1/enrol/start", "/api/v1/enrol/verify", "/api/v1/enrol/devices"]), body=bodies)
def test_no_body_makes_a_server_error(client: TestClient, penv: PortalEnv, path: str, body: bytes) -> None:
    with penv.store.session() as s:
        before = (s.scalar(select(func.count()).select_from(EnrolCode)),
                  s.scalar(select(func.count()).select_from(EnrolDevice)))
    r = client.post(path, content=body, headers={"Content-Type": "application/json", "Authorization": "Bearer x"})
    assert r.status_code < 500 or r.json()["error"]["code"] == "mail_failed", r.text
    if r.status_code >= 400:
        assert set(r.json()["error"]) == {"code", "message"}
        with penv.store.session() as s:
            after = (s.scalar(select(func.count()).select_from(EnrolCode)),
                     s.scalar(select(func.count()).select_from(EnrolDevice)))
        assert after == before
