"""What an Access-Accept from our IdP carries, besides EAP and keys (pure: attributes in, attributes out).

OpenRoaming asks the IdP for: a CUI when the ANP requested one (a single NUL in the request), the
IdP's WBAID as WBA-Identity-Provider (``4``+WBAID), a Session-Timeout, and Filter-Id echoing the
WBA-Offered-Service the ANP asked for (so the ANP can apply the tier's policy).
"""

from __future__ import annotations

from dataclasses import dataclass

from tsunagaru.idp.cui import chargeable_user_identity
from tsunagaru.radius import Packet
from tsunagaru.radius.attributes import find_vsa, vsa
from tsunagaru.radius.packet import CHARGEABLE_USER_IDENTITY, OPERATOR_NAME

SESSION_TIMEOUT = 27
WBA, WBA_OFFERED_SERVICE, WBA_IDENTITY_PROVIDER = 14122, 12, 16  # dictionary.wba
FILTER_ID = 11


@dataclass(frozen=True, slots=True)
class AcceptPolicy:
    cui_key: bytes
    wbaid: str | None = None
    session_timeout: int = 86400
    echo_offered_service: bool = True


def accept_attributes(policy: AcceptPolicy, request: Packet, user_id: str) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    if request.get(CHARGEABLE_USER_IDENTITY) is not None:
        cui = chargeable_user_identity(policy.cui_key, user_id, request.get(OPERATOR_NAME))
        out.append((CHARGEABLE_USER_IDENTITY, cui))
    if policy.wbaid:
        out.append(vsa(WBA, WBA_IDENTITY_PROVIDER, b"4" + policy.wbaid.encode("ascii")))
    if policy.session_timeout:
        out.append((SESSION_TIMEOUT, policy.session_timeout.to_bytes(4, "big")))
    if policy.echo_offered_service:
        offered = find_vsa(request, WBA, WBA_OFFERED_SERVICE)
        if offered:
            out.append((FILTER_ID, offered[:253]))
    return out
