"""CUI is stable per operator and unlinkable across operators; Accept carries the OpenRoaming set."""

from __future__ import annotations

from tsunagaru.idp.cui import chargeable_user_identity
from tsunagaru.idp.reply_policy import AcceptPolicy, accept_attributes
from tsunagaru.radius import Code, Packet, decode_packet, default_dictionary, encode

KEY = b"k" * 32
D = default_dictionary()


def test_cui_stable_per_operator_and_different_across_operators() -> None:
    a1 = chargeable_user_identity(KEY, "alice", b"4CITY:JP")
    assert a1 == chargeable_user_identity(KEY, "alice", b"4CITY:JP")
    assert a1 != chargeable_user_identity(KEY, "alice", b"4CARRIER:JP")
    assert a1 != chargeable_user_identity(KEY, "bob", b"4CITY:JP")
    assert b"alice" not in a1


def test_accept_attributes() -> None:
    request = Packet(Code.ACCESS_REQUEST, 1, attributes=(
        (89, b"\x00"), (126, b"4CITY:JP"), *encode(D, "WBA-Offered-Service", "OpenRoaming Bronze")))
    attrs = accept_attributes(AcceptPolicy(KEY, wbaid="TSUNAGARU:JP", session_timeout=3600), request, "alice")
    values = {a.name: a.value for a in decode_packet(Packet(Code.ACCESS_ACCEPT, 1, attributes=tuple(attrs)), D)}
    assert values["Chargeable-User-Identity"].startswith(b"cui-")
    assert values["WBA-Identity-Provider"] == "4TSUNAGARU:JP"
    assert values["Session-Timeout"] == 3600
    assert values["Filter-Id"] == "OpenRoaming Bronze"


def test_no_cui_unless_asked() -> None:
    request = Packet(Code.ACCESS_REQUEST, 1)
    attrs = accept_attributes(AcceptPolicy(KEY), request, "alice")
    assert all(t != 89 for t, _ in attrs)


def test_cui_names_the_user_in_its_realm() -> None:
    """Usernames are unique per realm (review 59): alice@a and alice@b are two people and get two CUIs;
    one user gets one CUI whichever way the method names her."""
    from tsunagaru.eap import EapType, Verdict
    from tsunagaru.eap.session import SessionOutcome
    from tsunagaru.idp.service import cui_user, user_key

    assert cui_user("alice@A.example") == "alice@a.example" != cui_user("alice@b.example")
    tls = SessionOutcome(True, Verdict.OK, 0, "anonymous@idp.example", EapType.TLS,
                         inner_identity="CN=alice@idp.example")
    ttls = SessionOutcome(True, Verdict.OK, 0, "anonymous@idp.example", EapType.TTLS, inner_identity="alice")
    assert user_key(tls) == user_key(ttls) == cui_user("alice@idp.example") == "alice@idp.example"
