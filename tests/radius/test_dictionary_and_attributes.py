"""The registry (dictionary files as data), VSAs, unknown attributes, and the fuzz target's short run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.procs import missing
from tsunagaru.radius import (
    DictionaryError,
    Packet,
    decode_packet,
    default_dictionary,
    encode,
    load_builtin,
)

FREERADIUS = Path("/usr/share/freeradius")
ROOT = Path(__file__).resolve().parents[2]


def names(packet: Packet, d=None) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {a.name: a.value for a in decode_packet(packet, d or default_dictionary())}


@pytest.mark.parametrize(("name", "vendor", "number"), [
    ("WFA-HS20-AP-Version", 40808, 2), ("WFA-HS20-STA-Version", 40808, 3),
    ("WFA-HS20-Roaming-Consortium", 40808, 6), ("WFA-HS20-T-C-URL", 40808, 10),
    ("WBA-Offered-Service", 14122, 12), ("WBA-Identity-Provider", 14122, 16),
    ("MS-MPPE-Send-Key", 311, 16), ("MS-MPPE-Recv-Key", 311, 17),
    ("Chargeable-User-Identity", 0, 89), ("Operator-Name", 0, 126), ("Location-Capable", 0, 131),
    ("WLAN-HESSID", 0, 181), ("Frag-Status", 0, 241),
])
def test_builtin_numbers(name: str, vendor: int, number: int) -> None:
    adef = default_dictionary()[name]
    assert adef.vendor == vendor and adef.path[0] == number


@pytest.mark.parametrize("vendor_file", ["dictionary.aruba", "dictionary.cisco"])
def test_loads_a_real_freeradius_vendor_file(vendor_file: str) -> None:
    path = FREERADIUS / vendor_file
    if not path.exists():
        missing(f"{path} not installed (freeradius-common)")
    d = load_builtin([path])
    name = "Aruba-User-Role" if "aruba" in vendor_file else "Cisco-AVPair"
    attrs = encode(d, name, "employee")
    assert names(Packet(2, 1, attributes=tuple(attrs)), d) == {name: "employee"}


def test_wide_vendor_format_from_freeradius_file() -> None:
    path = FREERADIUS / "dictionary.usr"
    if not path.exists():
        missing(f"{path} not installed")
    d = load_builtin([path])  # USR uses format=4,0
    attr = d["USR-Last-Number-Dialed-Out"]
    raw = encode(d, attr.name, "12345")
    assert raw[0][1][:8] == b"\0\0\x01\xad" + attr.path[0].to_bytes(4, "big")
    assert names(Packet(2, 1, attributes=tuple(raw)), d) == {attr.name: "12345"}


def test_operator_adds_a_vendor_from_text(tmp_path: Path) -> None:
    f = tmp_path / "dictionary.example"
    f.write_text("VENDOR Example 99999\nBEGIN-VENDOR Example\nATTRIBUTE Example-Colour 1 string\n"
                 "ATTRIBUTE Example-Level 2 integer\nVALUE Example-Level High 3\nEND-VENDOR Example\n")
    d = load_builtin([f])
    attrs = encode(d, "Example-Colour", "blue") + encode(d, "Example-Level", "High")
    got = names(Packet(2, 1, attributes=tuple(attrs)), d)
    assert got == {"Example-Colour": "blue", "Example-Level": "High"}
    with pytest.raises(DictionaryError):
        d.load_text("ATTRIBUTE Broken x string\n")


def test_unknown_attributes_survive_byte_for_byte() -> None:
    wire = Packet(1, 7, bytes(16), (
        (1, b"bob"), (26, b"\0\0\x30\x39\x07\x05abc"), (26, b"\0\0\x01\x37\xff\x04zz"),
        (200, b"\x01\x02"), (241, b"\x1a\0\0\x30\x39\x05x"), (26, b"\0\0\x01\x37\x10\x01"),
    )).to_bytes()
    pkt = Packet.from_bytes(wire)
    got = decode_packet(pkt, default_dictionary())
    assert [a.name for a in got] == ["User-Name", "Attr-26.12345", "Attr-26.311.255", "Attr-200",
                                     "Attr-241.26.12345.5", "Attr-26"]
    assert got[-1].error  # a broken VSA is reported, raw, not raised
    assert pkt.to_bytes() == wire
    assert pkt.add((18, b"hi")).without(18).to_bytes() == wire


def test_eap_message_split_at_253() -> None:
    attrs = encode(default_dictionary(), "EAP-Message", b"e" * 600)
    assert [len(v) for _, v in attrs] == [253, 253, 94]


def test_encode_refuses_values_that_do_not_fit() -> None:
    with pytest.raises(ValueError):
        encode(default_dictionary(), "User-Name", "x" * 254)
    with pytest.raises(ValueError):
        encode(default_dictionary(), "WBA-Offered-Service", "x" * 248)


def test_fuzz_target_short_run(tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    result = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "fuzz_radius.py"), "-atheris_runs=20000"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 20000" in result.stderr


def test_find_vsa_and_vsa_agree_with_the_dictionary() -> None:
    from tsunagaru.radius import Code, Packet, decode_packet, default_dictionary, encode
    from tsunagaru.radius.attributes import find_vsa, vsa

    d = default_dictionary()
    packet = Packet(Code.ACCESS_REQUEST, 1, attributes=(
        (26, b"\x00\x00\x37\x2a\x01"),  # a malformed VSA of the same vendor is skipped
        *encode(d, "WBA-Offered-Service", "OpenRoaming Bronze"), vsa(14122, 16, b"4IDP:JP")))
    assert find_vsa(packet, 14122, 12) == b"OpenRoaming Bronze"
    assert find_vsa(packet, 14122, 99) is None and find_vsa(packet, 311, 12) is None
    names = {a.name: a.value for a in decode_packet(packet, d)}
    assert names["WBA-Identity-Provider"] == "4IDP:JP"
