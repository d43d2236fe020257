"""The encrypted disaster credential: accepted only from an AP inside an active incident's area.

The city's IdP may publish one shared credential (a profile anyone installs from the portal, e.g. by a QR
code at a shelter). Unlike ``00000JAPAN`` the air stays encrypted and the phone still checks the IdP's
certificate. Since everyone holds it, the only thing that makes it safe to publish is where and when it
works: this decision, pure over the AP the request came from, the incidents and ``now``.

Where it is decided: the disaster credential lives in a realm of its own (``disaster_realms``, e.g.
``disaster.idp.tsunagaru.test``), so the ANP, which sees only the outer identity's realm, decides before
anything is forwarded (:func:`decide_request`) and refuses with Reject-Reason 42 (roaming not allowed
here); the IdP may check again with the NAS-Identifier and Operator-Name the ANP forwards.

The ANP knows the AP as its registry id (from the RADIUS client entry) and, for a controller or RadSec
connection that serves many APs, by the NAS-Identifier each BSS sends (``nas_identifier`` in the plan);
:class:`ApDirectory` maps a NAS-Identifier to its AP id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tsunagaru.ops.effects import active_incidents
from tsunagaru.ops.incidents import Incident

REJECT_REASON = 42  # WBA Reject-Reason "roaming not allowed here" (tsunagaru.radius.reasons.RejectReason)


class Verdict(StrEnum):
    ACCEPT = "accept"
    NO_INCIDENT = "no-active-incident"  # nothing active anywhere, or this incident has ended
    OUTSIDE_AREA = "outside-area"  # an incident is active, but not at this AP
    UNKNOWN_AP = "unknown-ap"  # the request names no AP the registry knows


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    incident_id: str | None = None

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPT


@dataclass(frozen=True, slots=True)
class ApDirectory:
    """NAS-Identifier -> AP id, for requests that arrive through a shared client (controller, RadSec)."""

    by_nas_identifier: Mapping[str, str]

    def resolve(self, ap_id: str | None, nas_identifier: str | None) -> str | None:
        if ap_id:
            return ap_id
        return self.by_nas_identifier.get(nas_identifier) if nas_identifier else None


def decide(ap_id: str | None, incidents: Iterable[Incident], now: datetime,
           nas_identifier: str | None = None, directory: ApDirectory | None = None) -> Decision:
    """Whether a login with the disaster credential is accepted from this AP now."""
    resolved = directory.resolve(ap_id, nas_identifier) if directory else ap_id
    active = active_incidents(incidents, now)
    if resolved is None:
        return Decision(Verdict.UNKNOWN_AP)
    for incident in active:
        if resolved in incident.affected:
            return Decision(Verdict.ACCEPT, incident.id)
    return Decision(Verdict.OUTSIDE_AREA if active else Verdict.NO_INCIDENT)


def decide_request(realm: str | None, disaster_realms: frozenset[str], ap_id: str | None,
                   incidents: Iterable[Incident], now: datetime, nas_identifier: str | None = None,
                   directory: ApDirectory | None = None) -> Decision | None:
    """None for an ordinary request (not the disaster credential's realm), else :func:`decide`."""
    if realm is None or realm.lower() not in disaster_realms:
        return None
    return decide(ap_id, incidents, now, nas_identifier, directory)
