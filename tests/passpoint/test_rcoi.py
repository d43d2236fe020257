"""RCOIs against the WBA RCOI calculator's layout: PPPPPP a b c 0 (DESIGN.md, protocol facts)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagaru.passpoint.rcoi import (
    IdentityType,
    OpenRoamingRcoi,
    OtherRcoi,
    RcoiError,
    Settlement,
    Tier,
    is_openroaming,
    parse_rcoi,
)

# (hex, fields) worked out by hand from the calculator's rules.
VECTORS = [
    ("5A03BA0000", OpenRoamingRcoi()),
    ("BAA2D00000", OpenRoamingRcoi(settlement=Settlement.SETTLED)),
    ("5A03BA1000", OpenRoamingRcoi(users_identified=True)),
    ("5A03BA2000", OpenRoamingRcoi(tier=Tier.SILVER)),
    ("5A03BA8000", OpenRoamingRcoi(enhanced_proofing=True)),
    ("5A03BA0800", OpenRoamingRcoi(identity_type=IdentityType.EDUCATION)),
    ("5A03BA0B00", OpenRoamingRcoi(identity_type=IdentityType.RETAIL)),
    ("5A03BA0080", OpenRoamingRcoi(short_lived=True)),
    ("BAA2D0B480", OpenRoamingRcoi(Settlement.SETTLED, Tier.SILVER, True, True, IdentityType.GOVERNMENT, True)),
]


@pytest.mark.parametrize(("text", "rcoi"), VECTORS)
def test_vectors_both_ways(text: str, rcoi: OpenRoamingRcoi) -> None:
    assert parse_rcoi(text) == rcoi
    assert rcoi.hex() == text
    assert parse_rcoi(text.lower()) == rcoi
    assert rcoi.hex("lower") == text.lower()


@given(st.sampled_from(list(Settlement)), st.sampled_from(list(Tier)), st.booleans(), st.booleans(),
       st.sampled_from(list(IdentityType)), st.booleans(), st.sampled_from(["upper", "lower"]))
def test_every_policy_round_trips(settlement: Settlement, tier: Tier, ident: bool, proof: bool,
                                  id_type: IdentityType, short: bool, case: str) -> None:
    rcoi = OpenRoamingRcoi(settlement, tier, ident, proof, id_type, short)
    text = rcoi.hex("upper" if case == "upper" else "lower")
    assert len(text) == 10 and text.upper().startswith(settlement.value) and text.endswith("0")
    assert parse_rcoi(text) == rcoi


def test_legacy_and_other_ois() -> None:
    assert parse_rcoi("004096") == OtherRcoi("004096")
    assert is_openroaming(parse_rcoi("004096"))
    assert not is_openroaming(parse_rcoi("001BC50460"))  # eduroam
    assert parse_rcoi("5a-03-ba-00-00") == OpenRoamingRcoi()


@pytest.mark.parametrize(("text", "problem"), [
    ("", "hexadecimal"), ("5A03BG0000", "hexadecimal"), ("5A03BA000", "whole number"), ("0040", "3 to 15"),
    ("00" * 16, "3 to 15"), ("5A03BA00", "must be 5 octets"), ("5A03BA4000", "reserved"),
    ("5A03BA0C00", "not assigned"), ("5A03BA0010", "0x8 of the credential"), ("5A03BA0001", "last nibble"),
])
def test_malformed_values_are_typed_errors(text: str, problem: str) -> None:
    with pytest.raises(RcoiError, match=problem) as info:
        parse_rcoi(text)
    assert info.value.value == text


@given(st.text(max_size=40))
def test_parser_never_raises_anything_else(text: str) -> None:
    with contextlib.suppress(RcoiError):
        parse_rcoi(text)


def test_words_read_like_the_calculator() -> None:
    words = parse_rcoi("BAA2D03480").words()
    assert words == ["settled", "silver tier", "users identified", "baseline identity proofing",
                     "identity type: government", "short-lived credentials only"]
