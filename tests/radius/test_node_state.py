"""The node id in State: made by the IdP, read by the ANP without knowing anything else of the State."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.radius.node_state import MAX_NODE_ID, make_state, node_of, valid_node_id

R = bytes(range(16))
NODE_IDS = st.text(st.sampled_from("abcXYZ019-_."), min_size=1, max_size=MAX_NODE_ID)


def test_documented_layout() -> None:
    # "TN", version 1, length, the id, 16 random octets
    assert make_state("idp-a", R) == b"TN\x01\x05idp-a" + R
    assert node_of(b"TN\x01\x05idp-a" + R) == "idp-a"


def test_without_a_node_id_the_state_is_16_random_octets_naming_none() -> None:
    state = make_state(None)
    assert len(state) == 16 and node_of(state) is None


def test_each_state_is_new() -> None:
    assert make_state("a") != make_state("a")


@pytest.mark.parametrize("bad", ["", "a" * 33, "ü", "a b", "a/b", "a\x00"])
def test_bad_node_ids_are_refused(bad: str) -> None:
    assert not valid_node_id(bad)
    with pytest.raises(ValueError):
        make_state(bad)


@pytest.mark.parametrize("state", [
    None, b"", b"TN", b"TN\x01", b"TN\x01\x00" + R, b"TN\x01\x05idp-a" + R[:15], b"TN\x01\x05idp-a" + R + b"x",
    b"TN\x02\x05idp-a" + R, b"TN\x01\x05id a" + R[:1] + R, b"TN\x01\x21" + b"a" * 33 + R, b"\xff" * 40,
])
def test_anything_else_names_no_node(state: bytes | None) -> None:
    assert node_of(state) is None


@given(NODE_IDS, st.binary(min_size=16, max_size=16))
def test_round_trip(node: str, random: bytes) -> None:
    assert node_of(make_state(node, random)) == node


@given(st.binary(max_size=64))
def test_any_octets_parse_without_error(state: bytes) -> None:
    node = node_of(state)
    assert node is None or valid_node_id(node)
