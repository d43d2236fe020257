"""What active incidents do to an AP: its disaster state (for the BSS plan) and the ANP's policy for it.

The BSS plan (``tsunagaru.passpoint.plan.plan_ap``) takes a ``tsunagaru.passpoint.model.DisasterState``:
until when the AP carries ``00000JAPAN``, so that the agent can remove it by itself when the end passes
even if the platform is unreachable. An AP outside every active incident gets :data:`OFF`
(``NO_DISASTER``), which is what restores its previous plan at an incident's end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tsunagaru.ops.incidents import Incident, Phase
from tsunagaru.passpoint.model import NO_DISASTER, DisasterState

OFF = NO_DISASTER


@dataclass(frozen=True, slots=True)
class AnpPolicy:
    """How the ANP treats requests from an AP: per-client rate limit (None: none) and Session-Timeout."""

    rate_per_second: float | None
    session_timeout_s: int


NORMAL = AnpPolicy(rate_per_second=200.0, session_timeout_s=3600)  # the ANP's client default, one hour
# In a disaster many people share one AP's uplink and reconnecting costs them battery and attempts:
# no per-client limit, and sessions of 6 h so that a phone is not sent through EAP again every hour.
IN_INCIDENT = AnpPolicy(rate_per_second=None, session_timeout_s=6 * 3600)


def one_line(text: str, limit: int = 200) -> str:
    """The reason as it may reach a rendered config: printable, one line (hostapd.conf has it in a comment)."""
    return "".join(c if c.isprintable() else " " for c in text)[:limit]


def active_incidents(incidents: Iterable[Incident], now: datetime) -> list[Incident]:
    return [i for i in incidents if i.phase(now) is Phase.ACTIVE]


def disaster_states(incidents: Iterable[Incident], now: datetime) -> dict[str, DisasterState]:
    """AP id -> disaster state for every AP in an active incident (APs not listed are OFF)."""
    states: dict[str, DisasterState] = {}
    for incident in active_incidents(incidents, now):
        state = DisasterState(until=incident.ends_at, reason=one_line(incident.reason), incident_id=incident.id)
        for ap in incident.affected:
            known = states.get(ap)
            if known is None or (known.until and incident.ends_at > known.until):
                states[ap] = state
    return states


def disaster_state(ap_id: str, incidents: Iterable[Incident], now: datetime) -> DisasterState:
    return disaster_states((i for i in incidents if ap_id in i.affected), now).get(ap_id, OFF)


def anp_policy(ap_id: str, states: Mapping[str, DisasterState], now: datetime, normal: AnpPolicy = NORMAL,
               in_incident: AnpPolicy = IN_INCIDENT) -> AnpPolicy:
    """The ANP's policy for an AP, from the states :func:`disaster_states` computed (they expire by ``until``)."""
    state = states.get(ap_id)
    return in_incident if state is not None and state.active(now) else normal
