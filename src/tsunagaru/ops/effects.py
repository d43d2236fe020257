"""What active incidents do to an AP: its disaster state (for the BSS plan) and the ANP's policy for it.

The BSS plan (issue 10, ``tsunagaru.passpoint.plan``) takes a disaster state: on or off, and until when,
so that the agent can remove ``00000JAPAN`` by itself when the end passes even if the platform is
unreachable. ``tsunagaru.passpoint.model.DisasterState`` had not landed when this was written; the local
:class:`DisasterState` below has the fields issue 10 describes, for the lead to swap for the real one
(or to convert) when merging. An AP outside every active incident gets :data:`OFF`, which is what restores
its previous plan at an incident's end.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from tsunagaru.ops.incidents import Incident, Phase


@dataclass(frozen=True, slots=True)
class DisasterState:
    """Whether the AP carries the disaster BSS now, and until when (local stand-in for passpoint's model)."""

    active: bool
    until: datetime | None = None
    incident_id: str | None = None


OFF = DisasterState(False)


@dataclass(frozen=True, slots=True)
class AnpPolicy:
    """How the ANP treats requests from an AP: per-client rate limit (None: none) and Session-Timeout."""

    rate_per_second: float | None
    session_timeout_s: int


NORMAL = AnpPolicy(rate_per_second=200.0, session_timeout_s=3600)  # the ANP's client default, one hour
# In a disaster many people share one AP's uplink and reconnecting costs them battery and attempts:
# no per-client limit, and sessions of 6 h so that a phone is not sent through EAP again every hour.
IN_INCIDENT = AnpPolicy(rate_per_second=None, session_timeout_s=6 * 3600)


def active_incidents(incidents: Iterable[Incident], now: datetime) -> list[Incident]:
    return [i for i in incidents if i.phase(now) is Phase.ACTIVE]


def disaster_states(incidents: Iterable[Incident], now: datetime) -> dict[str, DisasterState]:
    """AP id -> disaster state for every AP in an active incident (APs not listed are OFF)."""
    states: dict[str, DisasterState] = {}
    for incident in active_incidents(incidents, now):
        state = DisasterState(True, incident.ends_at, incident.id)
        for ap in incident.affected:
            known = states.get(ap)
            if known is None or (known.until and incident.ends_at > known.until):
                states[ap] = state
    return states


def disaster_state(ap_id: str, incidents: Iterable[Incident], now: datetime) -> DisasterState:
    return disaster_states((i for i in incidents if ap_id in i.affected), now).get(ap_id, OFF)


def anp_policy(ap_id: str, states: Mapping[str, DisasterState], normal: AnpPolicy = NORMAL,
               in_incident: AnpPolicy = IN_INCIDENT) -> AnpPolicy:
    """The ANP's policy for an AP, from the states :func:`disaster_states` computed for this moment."""
    state = states.get(ap_id)
    return in_incident if state is not None and state.active else normal
