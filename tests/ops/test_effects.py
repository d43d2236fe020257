"""What active incidents do to APs, and the disaster credential's decision, with time passed in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.ops.fixtures import ADMIN, NOW, SITES
from tsunagaru.ops.areas import parse_area
from tsunagaru.ops.disaster_credential import ApDirectory, Verdict, decide
from tsunagaru.ops.effects import IN_INCIDENT, NORMAL, OFF, DisasterState, anp_policy, disaster_state, disaster_states
from tsunagaru.ops.geo import Boundaries
from tsunagaru.ops.incidents import Context, Draft, Incident, declare, end

H = timedelta(hours=1)


@pytest.fixture
def incident(boundaries: Boundaries) -> Incident:
    return declare("i1", Draft(parse_area({"municipalities": ["131041"]}), NOW + 24 * H, "quake"), ADMIN, NOW,
                   Context(SITES, boundaries))


def test_disaster_state_on_during_and_off_after(incident: Incident) -> None:
    on = DisasterState(until=NOW + 24 * H, reason="quake", incident_id="i1")
    assert disaster_states([incident], NOW) == {"ap-1": on, "ap-2": on, "ap-3": on}
    assert disaster_state("ap-1", [incident], NOW + 23 * H) == on
    assert disaster_state("ap-4", [incident], NOW) is OFF  # outside the area
    assert disaster_state("ap-1", [incident], NOW + 24 * H) is OFF  # the end restores the previous plan
    assert disaster_state("ap-1", [end(incident, ADMIN, NOW + H)], NOW + H) is OFF  # declared end


def test_scheduled_incident_has_no_effect_yet(boundaries: Boundaries) -> None:
    later = declare("i2", Draft(parse_area({"municipalities": ["131041"]}), NOW + 5 * H, "drill", NOW + 2 * H),
                    ADMIN, NOW, Context(SITES, boundaries))
    assert disaster_states([later], NOW) == {}
    assert disaster_state("ap-3", [later], NOW + 2 * H).active(NOW + 2 * H)


def test_anp_policy(incident: Incident) -> None:
    states = disaster_states([incident], NOW)
    assert anp_policy("ap-1", states, NOW) == IN_INCIDENT
    assert IN_INCIDENT.rate_per_second is None and IN_INCIDENT.session_timeout_s > NORMAL.session_timeout_s
    assert anp_policy("ap-4", states, NOW) == NORMAL
    assert anp_policy("ap-1", states, NOW + 24 * H) == NORMAL  # a kept state expires by itself
    assert anp_policy("ap-1", disaster_states([incident], NOW + 25 * H), NOW + 25 * H) == NORMAL


def test_the_disaster_state_drives_the_real_bss_plan(incident: Incident) -> None:
    """passpoint's plan gains 00000JAPAN from our state, and loses it at the end (the previous plan)."""
    from tsunagaru.passpoint import description
    from tsunagaru.passpoint.plan import BssRole, plan_ap

    desc = description.parse_description((Path(description.__file__).parent / "example.toml").read_text("utf-8"))
    operator, site, ap = desc.operator, desc.site, desc.ap
    state = disaster_state("ap-1", [incident], NOW)
    during = plan_ap(operator, site, ap, state, NOW)
    after = plan_ap(operator, site, ap, disaster_state("ap-1", [incident], NOW + 24 * H), NOW + 24 * H)
    before = plan_ap(operator, site, ap, OFF, NOW)
    assert during.disaster_until == NOW + 24 * H and after.disaster_until is None
    assert BssRole.DISASTER in {b.role for r in during.radios for b in r.bsses}
    assert after == before


def test_disaster_credential_only_inside_an_active_area(incident: Incident) -> None:
    ok = decide("ap-3", [incident], NOW)
    assert ok.accepted and ok.incident_id == "i1"
    assert decide("ap-4", [incident], NOW).verdict is Verdict.OUTSIDE_AREA
    assert decide("ap-3", [incident], NOW + 24 * H).verdict is Verdict.NO_INCIDENT  # after the end
    assert decide("ap-3", [incident], NOW - H).verdict is Verdict.NO_INCIDENT  # before the start
    assert decide("ap-3", [], NOW).verdict is Verdict.NO_INCIDENT
    assert decide(None, [incident], NOW).verdict is Verdict.UNKNOWN_AP


def test_disaster_credential_by_nas_identifier(incident: Incident) -> None:
    directory = ApDirectory({"shinjuku-shelter-bss0": "ap-3", "tokyo-booth-bss0": "ap-4"})
    assert decide(None, [incident], NOW, "shinjuku-shelter-bss0", directory).accepted
    assert decide(None, [incident], NOW, "tokyo-booth-bss0", directory).verdict is Verdict.OUTSIDE_AREA
    assert decide(None, [incident], NOW, "stranger", directory).verdict is Verdict.UNKNOWN_AP


def test_the_anp_decides_by_the_disaster_realm(incident: Incident) -> None:
    from tsunagaru.ops.disaster_credential import decide_request

    realms = frozenset({"disaster.idp.tsunagaru.test"})
    assert decide_request("idp.tsunagaru.test", realms, "ap-4", [incident], NOW) is None  # ordinary login
    assert decide_request(None, realms, "ap-4", [incident], NOW) is None
    inside = decide_request("Disaster.IdP.tsunagaru.test", realms, "ap-1", [incident], NOW)
    assert inside is not None and inside.accepted
    outside = decide_request("disaster.idp.tsunagaru.test", realms, "ap-4", [incident], NOW)
    assert outside is not None and outside.verdict is Verdict.OUTSIDE_AREA
