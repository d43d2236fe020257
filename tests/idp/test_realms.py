"""The IdP answers only for its realms: other realms get Reject-Reason 11 (with EAP-Failure for EAP)."""

from __future__ import annotations

from pathlib import Path

from tests.idp.driver import Driven, demo_core
from tsunagaru.radius import Code, Packet, default_dictionary, eap_message, encode, sign_request
from tsunagaru.radius.hiding import hide_user_password
from tsunagaru.radius.reasons import parse_reject_reason

SECRET = b"testing123"
D = default_dictionary()


def core(tmp_path: Path) -> Driven:
    return demo_core(tmp_path, SECRET)


def pap(user: str, password: bytes) -> Packet:
    auth = bytes(range(16))
    p = Packet(Code.ACCESS_REQUEST, 1, auth, (*encode(D, "User-Name", user),
                                             (2, hide_user_password(password, SECRET, auth))))
    return sign_request(p, SECRET)


def test_own_realm_is_served_and_others_are_refused(tmp_path: Path) -> None:
    idp = core(tmp_path)
    ok = idp.answer(pap("alice@idp.tsunagaru.test", b"alice-password"), SECRET, 0.0)
    assert ok is not None and ok.code == Code.ACCESS_ACCEPT
    other = idp.answer(pap("alice@elsewhere.example", b"alice-password"), SECRET, 0.0)
    assert other is not None and other.code == Code.ACCESS_REJECT
    assert parse_reject_reason(other.get(18) or b"") == 11
    eap = Packet(Code.ACCESS_REQUEST, 2, attributes=(*encode(D, "User-Name", "anonymous@elsewhere.example"),
                                                     (79, b"\x02\x07\x00\x05\x01")))
    rejected = idp.answer(sign_request(eap, SECRET), SECRET, 0.0)
    assert rejected is not None and eap_message(rejected) == b"\x04\x07\x00\x04"
