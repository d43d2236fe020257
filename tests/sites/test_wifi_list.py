"""The Wi-Fi list parser on the shipped Tokyo list and on variants made here: encodings, line endings,
broken rows, and another publisher's column layout (header aliases)."""

from __future__ import annotations

from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsunagaru.sites.importers.report import CODES
from tsunagaru.sites.importers.wifi_list import parse
from tsunagaru.sites.municipalities import Gazetteer, shipped

GAZ = Gazetteer(shipped())
TOKYO = (resources.files("tsunagaru.sites") / "data" / "tokyo_free_wifi_accesspoints_130001_2024-09-01.cp932.csv"
         ).read_bytes()
TOKYO_TEXT = TOKYO.decode("cp932")
HEADER = TOKYO_TEXT.split("\r\n", 1)[0]


def _tokyo_rows(*lines: str) -> bytes:
    return ("\r\n".join([HEADER, *lines]) + "\r\n").encode("cp932")


def _row(no: str, name: str = "公衆電話（新宿区西新宿1-1）", address: str = "東京都新宿区西新宿1-1",
         lat: str = "35.69", lon: str = "139.70", code: str = "130001") -> str:
    return f"{code},{no},東京都,,{name},,,{address},,{lat},{lon},東京都,,,FREE_Wi-Fi_and_TOKYO,,http://x.example/,,2024/9/1"


def codes(report: object) -> dict[str, int]:
    return dict(report.counts)  # type: ignore[attr-defined]


def test_the_shipped_tokyo_list() -> None:
    records, report = parse(TOKYO, GAZ, name="tokyo")
    assert (report.encoding, report.newline, report.rows, report.accepted) == ("cp932", "crlf", 737, 737)
    assert report.errors == 0
    assert codes(report) == {"schema-required-empty": 737, "coordinates-shared": 19, "address-broken": 2,
                             "municipality-from-name": 2}
    broken = [p for p in report.problems if p.code == "address-broken"]
    assert [(p.row, p.column) for p in broken] == [(575, "住所"), (576, "住所")]
    assert broken[0].value == "東京都o.1（港区麻布十番1-4"
    assert all(r.municipality_code for r in records)
    # every municipality gets exactly the rows the shipped municipalities file counts
    import csv
    import io
    expected = {m["lg_code"]: int(m["free_wifi_tokyo_rows"]) for m in csv.DictReader(io.StringIO(
        (resources.files("tsunagaru.sites") / "data" / "tokyo_municipalities.csv").read_text("utf-8")))}
    got: dict[str, int] = {}
    for r in records:
        assert r.municipality_code is not None
        got[r.municipality_code] = got.get(r.municipality_code, 0) + 1
    assert got == {k: v for k, v in expected.items() if v}
    assert {r.category for r in records} >= {"phone-booth", "signage", "park", "transport"}


@pytest.mark.parametrize(("encoding", "newline"), [("utf-8-sig", "\r\n"), ("utf-8", "\n"), ("cp932", "\n"),
                                                   ("utf-8-sig", "\n")])
def test_the_same_list_in_other_encodings_and_line_endings(encoding: str, newline: str) -> None:
    data = TOKYO_TEXT.replace("\r\n", newline).encode(encoding)
    records, report = parse(data, GAZ)
    reference, _ = parse(TOKYO, GAZ)
    assert report.encoding == encoding and report.newline == ("crlf" if newline == "\r\n" else "lf")
    assert records and [r.fields() for r in records] == [r.fields() for r in reference]


def test_broken_rows_are_reported_with_row_column_and_value_and_never_abort() -> None:
    data = _tokyo_rows(
        _row("1"),
        _row("2", name=""),                                   # required empty: skipped
        _row("1", name="公衆電話（新宿区 dup）"),                # duplicate id: skipped
        _row("4", lat="139.70", lon="35.69"),                  # swapped: fixed
        _row("5", lat="48.85", lon="2.35"),                    # Paris: position dropped
        _row("6", lat="abc"),                                  # not a number
        _row("7", lat="", lon=""),                             # missing
        _row("8", address="東京都o.3（港区麻布十番1-4", name="標識No.3（港区麻布十番1-4）"),  # broken, from text
        _row("9", address="どこか", name="どこか"),             # no municipality at all
        _row("10", address="東京都新宿区1-1", code="131032"),   # the code says Minato
        _row("", name="no id"),                                # no id
        "130001,12,東京都",                                    # short row
    )
    records, report = parse(data, GAZ)
    got = codes(report)
    for code in ("required-empty", "duplicate-id", "coordinates-swapped", "coordinates-outside-japan",
                 "coordinates-invalid", "coordinates-missing", "address-broken", "municipality-from-name",
                 "municipality-unknown", "municipality-mismatch", "row-length"):
        assert got.get(code), code
    by_id = {r.source_id: r for r in records}
    assert set(by_id) == {"1", "4", "5", "6", "7", "8", "9", "10"}
    assert (by_id["4"].lat, by_id["4"].lon) == (35.69, 139.70)
    assert by_id["5"].lat is None and by_id["6"].lat is None
    assert by_id["8"].municipality_code == "131032" and by_id["9"].municipality_code is None
    assert by_id["10"].municipality_code == "131032"  # the code wins, the mismatch is reported
    dup = next(p for p in report.problems if p.code == "duplicate-id")
    assert (dup.row, dup.column, dup.value) == (4, "NO", "1")
    swapped = next(p for p in report.problems if p.code == "coordinates-swapped")
    assert swapped.row == 5 and swapped.value == "139.70,35.69"
    # one row may have several problems, all reported
    assert {p.code for p in report.problems if p.row == 13} >= {"required-empty", "row-length"}
    assert report.rows == 12 and report.accepted == 8


def test_another_registry_layout_through_header_aliases() -> None:
    """The newer 自治体標準オープンデータセット layout, UTF-8 with BOM, LF, a municipality publisher."""
    header = ("全国地方公共団体コード,ID,地方公共団体名,名称,名称_カナ,名称_英字,所在地_全国地方公共団体コード,"
              "所在地_連結表記,建物名,緯度,経度,設置者,SSID,利用可能時間,URL,備考,独自項目")
    lines = [header,
             "131041,A-001,新宿区,新宿区役所本庁舎,シンジュクククヤクショ,Shinjuku City Office,131041,"
             "東京都新宿区歌舞伎町1-4-1,本庁舎1階,35.6938,139.7034,新宿区,Shinjuku_Free_Wi-Fi,24時間,"
             "https://www.city.shinjuku.lg.jp/,,x",
             "131041,A-002,新宿区,新宿駅西口広場,,,131041,東京都新宿区西新宿1-1,,35.6909,139.6995,新宿区,"
             "Shinjuku_Free_Wi-Fi,,,,",
             "131041,A-003,新宿区,区外の施設,,,131032,東京都港区芝公園4-2-8,,35.6586,139.7454,新宿区,x,,,,"]
    records, report = parse(("\ufeff" + "\n".join(lines) + "\n").encode("utf-8"), GAZ, name="shinjuku")
    assert report.encoding == "utf-8-sig" and report.newline == "lf"
    assert [r.source_id for r in records] == ["A-001", "A-002", "A-003"]
    office = records[0]
    assert (office.name_en, office.name_kana) == ("Shinjuku City Office", "シンジュクククヤクショ")
    assert office.address_extra == "本庁舎1階"
    assert office.source == "131041" and office.municipality_code == "131041" and office.category == "municipal"
    assert records[1].category == "station"
    assert records[2].municipality_code == "131032"  # the location's code, not the publisher's
    assert codes(report).get("header-unknown-column") == 1  # 独自項目
    assert codes(report).get("schema-required-empty") == 2


def test_a_file_without_the_needed_columns_is_one_clear_problem() -> None:
    records, report = parse(b"a,b,c\n1,2,3\n", GAZ)
    assert records == [] and report.rows == 1
    assert codes(report)["header-missing-column"] >= 2


def test_undecodable_bytes_are_reported_not_raised() -> None:
    _records, report = parse(HEADER.encode("cp932") + b"\r\n130001,1,\x81\xff\xfe\r\n", GAZ)
    assert "encoding-undecodable" in codes(report)


def test_the_problem_list_is_bounded_and_marked_partial() -> None:
    _records, report = parse(TOKYO, GAZ, limit=50)
    assert len(report.problems) == 50 and report.partial
    assert report.counts["schema-required-empty"] == 737  # counts stay complete
    assert report.to_json()["partial"] is True


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_bytes_never_raise(data: bytes) -> None:
    _records, report = parse(data, GAZ)
    assert all(p.code in CODES for p in report.problems)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(max_size=30), min_size=0, max_size=22), max_size=20))
def test_fuzz_rows_under_the_real_header(rows: list[list[str]]) -> None:
    import csv
    import io
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER.split(","))
    writer.writerows(rows)
    records, report = parse(out.getvalue().encode("utf-8"), GAZ)
    assert report.rows >= len(records)
    for r in records:
        assert r.lat is None or 20 <= r.lat <= 46


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_ap_inventory_bytes_never_raise(data: bytes) -> None:
    from tsunagaru.sites.importers import ap_inventory

    _records, report = ap_inventory.parse(b"site_id,name,nas_network,secret_ref,bssids,radios\n" + data)
    assert all(p.code in CODES for p in report.problems)


def test_shelter_and_library_categories() -> None:
    """The registry knows the venue categories the BSS plan and the dashboard use; the Tokyo list's
    libraries (東京都立中央図書館, 多摩図書館) import as libraries, a shelter's name as a shelter."""
    from tsunagaru.sites.fields import CATEGORIES
    from tsunagaru.sites.importers.wifi_list import category_of
    from tsunagaru.web.apconfig import CATEGORIES as VENUES

    assert {"shelter", "library"} <= set(CATEGORIES) and {"shelter", "library"} <= set(VENUES)
    assert category_of("東京都立中央図書館") == "library" and category_of("東京都立多摩図書館") == "library"
    assert category_of("第一小学校（指定避難所）") == "shelter"
    assert category_of("区民センター", "避難場所") == "shelter"
    assert category_of("新宿区役所") == "municipal"
