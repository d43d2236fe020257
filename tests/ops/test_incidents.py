"""Incident rules, each with time passed in: who may declare, ends, areas, overlap, the steps."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.ops.fixtures import ADMIN, NOW, SHINJUKU_OP, SITES, VIEWER
from tsunagaru.ops.areas import parse_area
from tsunagaru.ops.geo import Boundaries
from tsunagaru.ops.incidents import (
    Context,
    Draft,
    Incident,
    IncidentInvalid,
    Phase,
    Status,
    approve,
    declare,
    end,
    extend,
    next_change,
    reject,
)

H = timedelta(hours=1)
SHINJUKU = {"municipalities": ["131041"]}


@pytest.fixture
def ctx(boundaries: Boundaries, municipalities: dict[str, str]) -> Context:
    return Context(SITES, boundaries, (), frozenset(municipalities))


def draft(area: object = SHINJUKU, hours: float = 24, start_in: float | None = None) -> Draft:
    starts = NOW + start_in * H if start_in is not None else None
    return Draft(parse_area(area), (starts or NOW) + hours * H, "earthquake M7.1", starts)


def codes(exc: pytest.ExceptionInfo[IncidentInvalid]) -> list[str]:
    return exc.value.codes


def test_city_admin_declares_active_now(ctx: Context) -> None:
    inc = declare("i1", draft(), ADMIN, NOW, ctx)
    assert inc.status is Status.APPROVED and inc.approved_by == "root"
    assert inc.affected == {"ap-1", "ap-2", "ap-3"}
    assert inc.phase(NOW) is Phase.ACTIVE
    assert inc.phase(NOW + 24 * H) is Phase.ENDED  # ends by itself at its end time
    assert inc.phase(NOW - H) is Phase.SCHEDULED


def test_scheduled_start(ctx: Context) -> None:
    inc = declare("i1", draft(start_in=2, hours=72), ADMIN, NOW, ctx)
    assert inc.phase(NOW) is Phase.SCHEDULED and inc.phase(NOW + 3 * H) is Phase.ACTIVE
    assert next_change([inc], NOW) == NOW + 2 * H
    assert next_change([inc], NOW + 3 * H) == NOW + 74 * H
    assert next_change([inc], NOW + 75 * H) is None


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"hours": -1}, "end-in-past"),
    ({"hours": 0}, "end-in-past"),
    ({"hours": 72.01}, "end-beyond-72h"),
    ({"start_in": 2, "hours": -1}, "end-before-start"),
    ({"start_in": 24 * 31}, "start-too-far"),
    ({"area": {"municipalities": ["131016", "131105"]}}, "municipality-without-sites"),
    ({"area": {"municipalities": ["999999"]}}, "unknown-municipality"),
    ({"area": {"circle": {"lat": 34.69, "lon": 135.50, "radius_m": 1000}}}, "outside-tokyo"),
    ({"area": {"circle": {"lat": 35.75, "lon": 139.40, "radius_m": 100}}}, "empty-area"),
])
def test_bad_incidents(ctx: Context, kwargs: dict[str, object], code: str) -> None:
    with pytest.raises(IncidentInvalid) as exc:
        declare("i1", draft(**kwargs), ADMIN, NOW, ctx)  # type: ignore[arg-type]
    assert code in codes(exc)


def test_exactly_72_hours_is_allowed(ctx: Context) -> None:
    assert declare("i1", draft(hours=72), ADMIN, NOW, ctx).ends_at == NOW + 72 * H


def test_every_problem_at_once(ctx: Context) -> None:
    bad = Draft(parse_area({"municipalities": ["131105"]}), NOW - H, " ")
    with pytest.raises(IncidentInvalid) as exc:
        declare("i1", bad, ADMIN, NOW, ctx)
    assert codes(exc) == ["end-in-past", "bad-reason", "municipality-without-sites"]


def test_overlap_with_a_live_incident(ctx: Context) -> None:
    first = declare("i1", draft(), ADMIN, NOW, ctx)
    ctx2 = Context(ctx.sites, ctx.boundaries, (first,))
    circle = {"circle": {"lat": 35.6938, "lon": 139.7034, "radius_m": 200}}  # the Shinjuku shelter
    with pytest.raises(IncidentInvalid) as exc:
        declare("i2", draft(circle), ADMIN, NOW, ctx2)
    assert codes(exc) == ["overlap"] and "i1" in str(exc.value)
    # other APs, or after the first has ended: fine
    declare("i3", draft({"municipalities": ["131016"]}), ADMIN, NOW, ctx2)
    declare("i4", draft(circle, start_in=25), ADMIN, NOW, ctx2)
    ended = Context(ctx.sites, ctx.boundaries, (end(first, ADMIN, NOW + H),))
    declare("i5", draft(circle), ADMIN, NOW + H, ended)


def test_request_and_approval(ctx: Context) -> None:
    req = declare("r1", draft(), SHINJUKU_OP, NOW, ctx)
    assert req.status is Status.REQUESTED and req.phase(NOW) is Phase.REQUESTED and req.approved_by is None
    with pytest.raises(IncidentInvalid) as exc:
        approve(req, SHINJUKU_OP, NOW, ctx)
    assert codes(exc) == ["not-allowed"]
    later = NOW + 2 * H
    ok = approve(req, ADMIN, later, ctx)
    assert ok.status is Status.APPROVED and ok.approved_by == "root" and ok.starts_at == later
    assert ok.phase(later) is Phase.ACTIVE
    with pytest.raises(IncidentInvalid) as exc:
        approve(ok, ADMIN, later, ctx)
    assert codes(exc) == ["wrong-state"]
    assert reject(declare("r2", draft(), SHINJUKU_OP, NOW, ctx), ADMIN, NOW).phase(NOW) is Phase.REJECTED


def test_approval_rechecks_the_rules(ctx: Context) -> None:
    req = declare("r1", draft(hours=2), SHINJUKU_OP, NOW, ctx)
    with pytest.raises(IncidentInvalid) as exc:
        approve(req, ADMIN, NOW + 3 * H, ctx)
    assert codes(exc) == ["end-in-past"]


def test_operator_only_for_its_own_area(ctx: Context) -> None:
    with pytest.raises(IncidentInvalid) as exc:
        declare("r1", draft({"municipalities": ["131016"]}), SHINJUKU_OP, NOW, ctx)
    assert codes(exc) == ["not-allowed"]
    big_circle = {"circle": {"lat": 35.6812, "lon": 139.7671, "radius_m": 7000}}
    with pytest.raises(IncidentInvalid):
        declare("r2", draft(big_circle), SHINJUKU_OP, NOW, ctx)
    with pytest.raises(IncidentInvalid) as exc:
        declare("v1", draft(), VIEWER, NOW, ctx)
    assert codes(exc) == ["not-allowed"]


def test_extend_within_the_rule(ctx: Context) -> None:
    inc = declare("i1", draft(hours=72), ADMIN, NOW, ctx)
    later = NOW + 60 * H
    longer = extend(inc, later + 72 * H, ADMIN, later, ctx)  # 72 h from the moment of the extension
    assert longer.ends_at == NOW + 132 * H
    for new_end, code in ((later + 73 * H, "end-beyond-72h"), (NOW + 70 * H, "end-before-start")):
        with pytest.raises(IncidentInvalid) as exc:
            extend(inc, new_end, ADMIN, later, ctx)
        assert code in codes(exc)
    with pytest.raises(IncidentInvalid) as exc:
        extend(inc, NOW + 100 * H, ADMIN, NOW + 80 * H, ctx)  # already over
    assert codes(exc) == ["wrong-state"]


def test_end_declared(ctx: Context) -> None:
    inc = declare("i1", draft(), ADMIN, NOW, ctx)
    done = end(inc, ADMIN, NOW + H)
    assert done.phase(NOW + H) is Phase.ENDED and done.ended_by == "root" and done.effective_end() == NOW + H
    with pytest.raises(IncidentInvalid) as exc:
        end(done, ADMIN, NOW + 2 * H)
    assert codes(exc) == ["wrong-state"]
    with pytest.raises(IncidentInvalid):
        end(inc, SHINJUKU_OP, NOW)


def test_incident_is_frozen(ctx: Context) -> None:
    inc: Incident = declare("i1", draft(), ADMIN, NOW, ctx)
    with pytest.raises(AttributeError):
        inc.reason = "x"  # type: ignore[misc]


def test_json_view_and_affected_aps_of_an_incident(ctx: Context) -> None:
    from tsunagaru.ops.areas import affected_aps

    inc = declare("i1", draft(), ADMIN, NOW, ctx)
    doc = inc.to_json(NOW)
    assert doc["affected_aps"] == ["ap-1", "ap-2", "ap-3"] and doc["phase"] == "active"
    assert doc["area"] == {"municipalities": ["131041"]} and doc["ends_at"] == "2026-12-02T12:00:00+00:00"
    assert affected_aps(inc, SITES) == inc.affected


def test_draft_from_the_api_body() -> None:
    from tsunagaru.ops.incidents import draft_from_json

    d = draft_from_json({"area": {"municipalities": ["131041"]}, "ends_at": "2026-12-02T09:00:00+09:00",
                         "reason": "quake"})
    assert d.ends_at == NOW.replace(day=2, hour=0) and d.starts_at is None and d.reason == "quake"
    assert draft_from_json({"area": {"circle": {"lat": 35.7, "lon": 139.7, "radius_m": 10}},
                            "ends_at": "2026-12-02T00:00:00Z", "starts_at": "2026-12-01T13:00:00Z",
                            "reason": "x"}).starts_at == NOW + H
    for body, expected in [
        ({"area": {"polygon": {"type": "Point"}}, "ends_at": "soon", "reason": 5},
         ["invalid-geojson", "bad-time", "bad-reason"]),
        ({"area": {}, "ends_at": "2026-12-02T00:00:00", "reason": "x"}, ["invalid-area", "bad-time"]),
        ([], ["invalid-area"]),
    ]:
        with pytest.raises(IncidentInvalid) as exc:
            draft_from_json(body)
        assert codes(exc) == expected


def test_a_reason_is_one_line(ctx: Context) -> None:
    bad = Draft(parse_area(SHINJUKU), NOW + H, "quake\nctrl_interface=/tmp/x")
    with pytest.raises(IncidentInvalid) as exc:
        declare("i1", bad, ADMIN, NOW, ctx)
    assert codes(exc) == ["bad-reason"]
