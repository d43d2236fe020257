"""Hourly usage aggregates, small-count suppression and the CSV export; properties by hypothesis."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.ops.activity import SessionRecord
from tsunagaru.ops.usage import Dimension, Placement, Rendering, UsageRow, aggregate, render_row, show_count, to_csv

H0 = 1_764_590_400.0  # an hour boundary
PLACES = {"ap1": Placement("s1", "131041", "city"), "ap2": Placement("s1", "131041", "city"),
          "ap3": Placement("s2", "131016", "booths")}


def sess(ap: str, user: str | None, at: float, octets: int = 100, t: int = 60, realm: str = "idp.example",
         key: str | None = None) -> SessionRecord:
    return SessionRecord(key or f"{ap}-{user}-{at}", ap, user, realm, at, at + t, True, True, octets, 2 * octets, t)


def row(rows: list[UsageRow], dim: Dimension, key: str) -> UsageRow:
    (found,) = [r for r in rows if r.dimension is dim and r.key == key]
    return found


def test_hourly_per_dimension() -> None:
    sessions = [sess("ap1", "u1", H0 + 10), sess("ap1", "u1", H0 + 20, t=180), sess("ap2", "u2", H0 + 30),
                sess("ap3", "u3", H0 + 3600, realm="other.example"), sess("ap9", None, H0 + 5)]
    rows = aggregate(sessions, PLACES)
    site = row(rows, Dimension.SITE, "s1")
    assert (site.sessions, site.users, site.octets_in, site.octets_out) == (3, 2, 300, 600)
    assert (site.duration_total_s, site.duration_median_s) == (300, 60)
    assert row(rows, Dimension.AP, "ap1").users == 1
    assert row(rows, Dimension.MUNICIPALITY, "131016").hour.isoformat() == "2025-12-01T13:00:00+00:00"
    assert row(rows, Dimension.TENANT, "booths").sessions == 1
    realm = row(rows, Dimension.REALM, "idp.example")
    assert (realm.sessions, realm.users) == (4, 2)  # ap9 is placed nowhere, but its realm counts
    assert row(rows, Dimension.AP, "ap9").users == 0


def test_small_counts() -> None:
    admin, others = Rendering.for_role("city-admin"), Rendering.for_role("municipality-operator")
    assert [show_count(n, others) for n in (0, 1, 4, 5)] == [0, "<5", "<5", 5]
    assert show_count(3, admin) == 3
    rows = aggregate([sess("ap1", f"u{i}", H0) for i in range(3)], PLACES, [Dimension.SITE])
    shown = render_row(rows[0], others)
    assert shown["sessions"] == "<5" and shown["users"] == "<5" and shown["octets_in"] == ""
    assert render_row(rows[0], admin)["octets_in"] == 300
    many = aggregate([sess("ap1", f"u{i}", H0) for i in range(6)], PLACES, [Dimension.SITE])
    assert render_row(many[0], others)["users"] == 6 and render_row(many[0], others)["octets_in"] == 600
    anonymous = aggregate([sess("ap1", None, H0 + i) for i in range(2)], PLACES, [Dimension.SITE])
    assert render_row(anonymous[0], others)["octets_in"] == ""  # few sessions with no user id: still few people


def test_csv_export_and_formula_cells() -> None:
    rows = aggregate([sess("ap1", f"u{i}", H0, realm="=cmd|x") for i in range(6)], PLACES, [Dimension.REALM])
    text = to_csv(rows, Rendering(exact=False))
    assert text.startswith("dimension,key,hour,sessions,users,") and "\r\n" in text
    (parsed,) = list(csv.DictReader(io.StringIO(text)))
    assert parsed["key"] == "'=cmd|x" and parsed["users"] == "6" and parsed["hour"] == "2025-12-01T12:00:00Z"


sessions_st = st.lists(st.builds(
    sess, st.sampled_from(["ap1", "ap2", "ap3"]), st.none() | st.sampled_from(["u1", "u2", "u3", "u4"]),
    st.floats(H0, H0 + 4 * 3600), st.integers(0, 10**9), st.integers(0, 86_400),
    st.sampled_from(["a.example", "b.example"])), max_size=40, unique_by=lambda s: s.session_key)


@given(sessions_st)
def test_aggregates_add_up(sessions: list[SessionRecord]) -> None:
    rows = aggregate(sessions, PLACES)
    for dim in Dimension:
        mine = [r for r in rows if r.dimension is dim]
        assert sum(r.sessions for r in mine) == len(sessions)
        assert sum(r.octets_in for r in mine) == sum(s.octets_in for s in sessions)
        assert sum(r.duration_total_s for r in mine) == sum(s.session_time_s for s in sessions)
        for r in mine:
            assert 0 <= r.users <= r.sessions and r.hour.minute == 0 and r.hour.second == 0
    # distinct users per site are at most the sum over its APs (a user may use both APs)
    by = {(r.dimension, r.key, r.hour): r for r in rows}
    for (dim, key, hour), r in by.items():
        if dim is Dimension.SITE and key == "s1":
            parts = [by.get((Dimension.AP, ap, hour)) for ap in ("ap1", "ap2")]
            assert r.users <= sum(p.users for p in parts if p)
            assert r.sessions == sum(p.sessions for p in parts if p)


def test_connected_now() -> None:
    from tsunagaru.ops.usage import connected

    now = H0 + 3600
    def live(ap: str, user: str | None, ago: float) -> SessionRecord:
        return SessionRecord(f"{ap}{ago}", ap, user, "r", now - 3000, now - ago, True, False, 0, 0, 0)

    current = [live("ap1", "u1", 600), live("ap2", "u1", 300), live("ap3", None, 60)]
    old = SessionRecord("old", "ap1", "u9", "r", now - 7200, now - 3600, True, False, 0, 0, 0)
    done = SessionRecord("done", "ap1", "u8", "r", now - 100, now - 50, True, True, 0, 0, 0)
    assert connected([*current, old, done], PLACES, now) == {"s1": 1, "s2": 1}  # u1 on two APs of s1 is one person
