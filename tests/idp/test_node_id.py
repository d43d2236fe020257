"""``[idp] node_id``: the IdP names itself in the State of its challenges; another node's State is refused."""

from __future__ import annotations

import pytest

from tests.eap.memstore import MemStore
from tests.eap.test_eap_front import SECRET, access_request, identity, reply_eap
from tests.idp.test_serve import MINIMAL
from tsunagaru.eap.methods.base import MethodConfig
from tsunagaru.eap.packet import EapCode, EapPacket, EapType
from tsunagaru.eap.session import SessionConfig
from tsunagaru.idp.config import ConfigError, parse
from tsunagaru.idp.eap_front import EapRadiusHandler, FrontConfig
from tsunagaru.radius import Code
from tsunagaru.radius.node_state import node_of
from tsunagaru.radius.packet import STATE
from tsunagaru.radius.reasons import RejectReason


def handler(node_id: str | None) -> EapRadiusHandler:
    store = MemStore(passwords={"alice@idp.tsunagaru.test": "alice-password"})
    return EapRadiusHandler(FrontConfig(SECRET, SessionConfig((EapType.MSCHAPV2,), MethodConfig(store)),
                                        node_id=node_id))


def test_challenges_name_the_node() -> None:
    reply = handler("idp-a").handle(access_request(identity()), 0.0)
    assert reply is not None and reply.code == Code.ACCESS_CHALLENGE
    assert node_of(reply.get(STATE)) == "idp-a"


def test_without_node_id_the_state_names_none() -> None:
    reply = handler(None).handle(access_request(identity()), 0.0)
    assert reply is not None and node_of(reply.get(STATE)) is None and len(reply.get(STATE) or b"") == 16


def test_a_conversation_of_another_node_is_rejected_at_once_so_the_client_restarts() -> None:
    a, b = handler("idp-a"), handler("idp-b")
    challenge = a.handle(access_request(identity()), 0.0)
    assert challenge is not None
    answer = EapPacket(EapCode.RESPONSE, reply_eap(challenge).identifier, EapType.NAK, bytes((EapType.MSCHAPV2,)))
    reject = b.handle(access_request(answer, challenge.get(STATE), 2), 0.1)
    assert reject is not None and reject.code == Code.ACCESS_REJECT
    assert f"Reject-Reason={int(RejectReason.PROTOCOL_TIMEOUT)}".encode() in (reject.get(18) or b"")
    failure = reply_eap(reject)
    assert failure.code == EapCode.FAILURE and failure.identifier == answer.identifier  # else discarded
    assert not b.sessions


def test_config_node_id() -> None:
    text = MINIMAL.replace("[udp]", 'node_id = "idp-a.tokyo-1"\n[udp]')
    assert parse(text).settings.node_id == "idp-a.tokyo-1"
    assert parse(MINIMAL).settings.node_id is None


@pytest.mark.parametrize("bad", ['""', '"a b"', '"' + "x" * 33 + '"', "7"])
def test_bad_node_id_names_the_key(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(MINIMAL.replace("[udp]", f"node_id = {bad}\n[udp]"))
    assert info.value.key == "idp.node_id"
