"""The incident's Session-Timeout rule with time passed in: applied before the end only, cut at the end,
never lowering what the IdP sent, Access-Accept only."""

from __future__ import annotations

import ipaddress

from tsunagaru.anp.clients import Client
from tsunagaru.anp.disaster import SESSION_TIMEOUT, lengthen, session_timeout
from tsunagaru.radius.packet import Packet

END = 1_800_000_000.0
AP = Client("ap-1", ipaddress.ip_network("10.0.0.0/24"), b"s", disaster_until=END, disaster_session_timeout=21600)


def test_applies_only_while_the_incident_runs() -> None:
    assert session_timeout(AP, END - 86400) == 21600
    assert session_timeout(AP, END - 3600) == 3600  # cut at the end
    assert session_timeout(AP, END - 30) is None  # under a minute left: leave the IdP's value
    assert session_timeout(AP, END) is None and session_timeout(AP, END + 1) is None
    assert session_timeout(AP, None) is None  # no wall clock: fail to the normal policy
    normal = Client("ap-2", ipaddress.ip_network("10.0.1.0/24"), b"s")
    assert session_timeout(normal, END - 86400) is None
    no_policy = Client("ap-3", ipaddress.ip_network("10.0.2.0/24"), b"s", disaster_until=END)
    assert session_timeout(no_policy, END - 86400) is None


def test_lengthen_raises_never_lowers() -> None:
    accept = Packet(2, 7, b"a" * 16, ((1, b"alice"), (SESSION_TIMEOUT, (1800).to_bytes(4, "big"))))
    out = lengthen(accept, 21600)
    assert out.get_all(SESSION_TIMEOUT) == [(21600).to_bytes(4, "big")] and out.get(1) == b"alice"
    assert lengthen(Packet(2, 7, b"a" * 16, ((SESSION_TIMEOUT, (86400).to_bytes(4, "big")),)), 21600).get(
        SESSION_TIMEOUT) == (86400).to_bytes(4, "big")
    assert lengthen(Packet(2, 7, b"a" * 16, ()), 600).get(SESSION_TIMEOUT) == (600).to_bytes(4, "big")
    reject = Packet(3, 7, b"a" * 16, ())
    assert lengthen(reject, 600) is reject and lengthen(accept, None) is accept
