"""The national standard public Wi-Fi list (「公衆無線LANアクセスポイント一覧」) -> site records + a report (pure).

Column layouts differ between publishers and schema versions (the older 推奨データセット with ``NO``,
``住所``, ``方書``; the 自治体標準オープンデータセット with ``ID``, ``所在地_連結表記``, ``建物名``;
registries of prefectures and carriers with their own headers), so each field is found through
header aliases. Every problem is reported with its row, column and value; a row is skipped only when
it cannot become a site (no id, no name, a duplicate id, an over-long value).

Municipality: the row's own municipality code (a 6-digit 全国地方公共団体コード, or the location's code
column of the newer schema) when it names a municipality, else the municipality the address names.
A prefecture-level publisher code (``130001``: the Tokyo Metropolitan Government) says who published the
row, not where it is, so the address decides. Never the boundary polygons (see DESIGN.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from tsunagaru.sites.fields import LAT_RANGE, LON_RANGE
from tsunagaru.sites.importers.csvtext import MAX_BYTES, Row, decode, normalise_header, rows
from tsunagaru.sites.importers.report import Report
from tsunagaru.sites.municipalities import PREFECTURES, Gazetteer

# field -> header aliases (compared after normalise_header)
ALIASES: dict[str, tuple[str, ...]] = {
    "lg_code": ("都道府県コード又は市区町村コード", "全国地方公共団体コード", "地方公共団体コード", "市区町村コード",
                "団体コード"),
    "location_code": ("所在地_全国地方公共団体コード", "所在地_市区町村コード"),
    "source_id": ("NO", "ID", "番号", "整理番号", "管理番号", "AP_ID"),
    "pref_name": ("都道府県名", "所在地_都道府県"),
    "city_name": ("市区町村名", "地方公共団体名", "所在地_市区町村"),
    "town": ("所在地_町字",),
    "street": ("所在地_番地以下",),
    "name": ("名称", "施設名", "施設名称", "設置場所", "設置場所名称", "スポット名", "アクセスポイント名称"),
    "name_kana": ("名称_カナ", "名称カナ", "施設名カナ", "施設名_カナ", "ふりがな"),
    "name_en": ("名称_英語", "名称_英字", "施設名_英語", "英語名称", "name_en"),
    "address": ("住所", "所在地_連結表記", "所在地", "設置場所住所"),
    "address_extra": ("方書", "建物名", "設置場所詳細"),
    "lat": ("緯度", "latitude", "lat"),
    "lon": ("経度", "longitude", "lon", "lng"),
    "installer": ("設置者", "事業者", "運営者", "提供事業者"),
    "ssid": ("SSID",),
    "url": ("URL", "施設URL", "ホームページ"),
    "checked_on": ("最終確認日", "更新日", "確認日"),
    "category": ("種別", "カテゴリ", "施設種別"),
}
KNOWN_OTHERS = ("電話番号", "内線番号", "提供エリア", "備考", "利用可能時間", "連絡先メールアドレス", "町字ID",
                "連絡先電話番号", "連絡先内線番号", "利用時間", "利用方法", "対応言語")
REQUIRED = ("source_id", "name")
SCHEMA_REQUIRED = ("name_kana",)  # required by the national schema, not by the registry
LIMITS = {"source_id": 64, "name": 300, "name_kana": 300, "name_en": 300, "address": 400, "address_extra": 400,
          "installer": 200, "ssid": 32, "url": 500}

CATEGORY_WORDS = (("避難所", "shelter"), ("避難場所", "shelter"),  # before 学校/センター: a shelter first
                  ("公衆電話", "phone-booth"), ("電話ボックス", "phone-booth"), ("観光案内標識", "signage"),
                  ("サイネージ", "signage"), ("案内板", "signage"), ("ビジターセンター", "tourist-info"),
                  ("インフォメーション", "tourist-info"), ("観光案内所", "tourist-info"), ("空港", "transport"),
                  ("港", "transport"), ("船客待合所", "transport"), ("駅", "station"), ("バス", "transport"),
                  ("公園", "park"), ("庭園", "park"), ("動物園", "park"), ("植物園", "park"), ("ホテル", "hotel"),
                  ("旅館", "hotel"), ("区役所", "municipal"), ("市役所", "municipal"), ("役場", "municipal"),
                  ("出張所", "municipal"), ("図書館", "library"), ("センター", "facility"), ("会館", "facility"))


@dataclass(frozen=True)
class SiteRecord:
    """One row as a site, ready for the store (``source`` + ``source_id`` is its key across imports)."""

    row: int
    source: str
    source_id: str
    name: str
    name_kana: str | None
    name_en: str | None
    category: str
    lat: float | None
    lon: float | None
    address: str | None
    address_extra: str | None
    municipality_code: str | None
    installer: str | None
    ssid: str | None
    url: str | None
    checked_on: str | None

    def fields(self) -> dict[str, object]:
        """The site columns this record sets (what the diff compares)."""
        return {k: getattr(self, k) for k in SITE_COLUMNS}


SITE_COLUMNS = ("name", "name_kana", "name_en", "category", "lat", "lon", "address", "address_extra",
                "municipality_code", "installer", "ssid", "url", "checked_on")


def category_of(name: str, given: str | None = None) -> str:
    for word, category in CATEGORY_WORDS:
        if word in name or (given and word in given):
            return category
    return "other"


def _columns(header: list[str], report: Report) -> dict[str, str]:
    """field -> normalised header key, for the fields this file has."""
    keys = {normalise_header(h): h for h in header}
    found: dict[str, str] = {}
    for field, aliases in ALIASES.items():
        for alias in aliases:
            key = normalise_header(alias)
            if key in keys:
                found[field] = key
                break
    used = set(found.values()) | {normalise_header(k) for k in KNOWN_OTHERS}
    for key, written in keys.items():
        if key and key not in used:
            report.add("header-unknown-column", f"column {written!r} is not used", row=1, column=written)
    for field in REQUIRED:
        if field not in found:
            report.add("header-missing-column", f"no column for {field} (one of {', '.join(ALIASES[field])})", row=1,
                       column=ALIASES[field][0])
    if "address" not in found and "city_name" not in found and "lg_code" not in found:
        report.add("header-missing-column", "no address, municipality or code column", row=1, column="住所")
    return found


def _number(text: str) -> float | None:
    try:
        value = float(unicodedata.normalize("NFKC", text).replace(",", "."))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None  # NaN and inf are not numbers


def _in_japan(lat: float, lon: float) -> bool:
    return LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LON_RANGE[0] <= lon <= LON_RANGE[1]


def _date(text: str) -> date | None:
    m = re.fullmatch(r"(\d{4})[-/年.](\d{1,2})[-/月.](\d{1,2})日?", unicodedata.normalize("NFKC", text))
    if not m:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


class _RowReader:
    def __init__(self, columns: dict[str, str], gazetteer: Gazetteer, report: Report, source: str | None) -> None:
        self.columns = columns
        self.gazetteer = gazetteer
        self.report = report
        self.source = source

    def get(self, row: Row, field: str) -> str:
        key = self.columns.get(field)
        return unicodedata.normalize("NFKC", row.cells.get(key, "")).strip() if key else ""

    def raw(self, row: Row, field: str) -> str:
        key = self.columns.get(field)
        return row.cells.get(key, "").strip() if key else ""

    def header(self, field: str) -> str:
        return next((a for a in ALIASES[field] if normalise_header(a) == self.columns.get(field)), field)

    def record(self, row: Row) -> SiteRecord | None:
        report, n = self.report, row.number
        ok = True
        for field in REQUIRED:
            if not self.get(row, field):
                report.add("required-empty", f"{field} is empty", row=n, column=self.header(field), value="")
                ok = False
        for field in SCHEMA_REQUIRED:
            if field in self.columns and not self.get(row, field):
                report.add("schema-required-empty", f"{field} is empty", row=n, column=self.header(field), value="")
        values: dict[str, str | None] = {}
        for field, limit in LIMITS.items():
            text = self.raw(row, field) if field in ("name", "name_kana", "address", "address_extra") else \
                self.get(row, field)
            if len(text) > limit:
                report.add("value-too-long", f"{field} has {len(text)} characters (at most {limit})", row=n,
                           column=self.header(field), value=text)
                ok = False
            values[field] = text or None
        address = self._address(row, values)
        lat, lon = self._position(row)
        code = self._municipality(row, address)
        checked = None
        if self.get(row, "checked_on"):
            parsed = _date(self.get(row, "checked_on"))
            if parsed is None:
                report.add("date-invalid", "not a date", row=n, column=self.header("checked_on"),
                           value=self.get(row, "checked_on"))
            checked = parsed.isoformat() if parsed else None
        url = values["url"]
        if url is not None and not re.match(r"^https?://", url):
            report.add("value-invalid", "not an http(s) URL", row=n, column=self.header("url"), value=url)
            url = None
        if not ok:
            return None
        name = values["name"] or ""
        return SiteRecord(n, self._source(row), values["source_id"] or "", name, values["name_kana"], values["name_en"],
                          category_of(name, self.get(row, "category")), lat, lon, address, values["address_extra"],
                          code, values["installer"], values["ssid"], url, checked)

    def _source(self, row: Row) -> str:
        return self.source or self.get(row, "lg_code") or "unknown"

    def _address(self, row: Row, values: dict[str, str | None]) -> str | None:
        address = values["address"]
        if address is None:
            parts = [self.raw(row, f) for f in ("pref_name", "city_name", "town", "street")]
            address = "".join(parts) or None
        if address is None:
            self.report.add("address-missing", "no address", row=row.number, column=self.header("address"), value="")
            return None
        compact = "".join(address.split())
        named = next((p for p in PREFECTURES.values() if compact.startswith(p)), None)
        if named is None or self.gazetteer.from_address(compact) is None:
            self.report.add("address-broken", "the address does not start with prefecture and municipality",
                            row=row.number, column=self.header("address"), value=address)
        return address

    def _position(self, row: Row) -> tuple[float | None, float | None]:
        n, lat_text, lon_text = row.number, self.get(row, "lat"), self.get(row, "lon")
        if not lat_text and not lon_text:
            self.report.add("coordinates-missing", "no latitude/longitude", row=n, column=self.header("lat"), value="")
            return None, None
        lat, lon = _number(lat_text), _number(lon_text)
        if lat is None or lon is None:
            bad = "lat" if lat is None else "lon"
            self.report.add("coordinates-invalid", f"{bad} is not a number", row=n, column=self.header(bad),
                            value=lat_text if bad == "lat" else lon_text)
            return None, None
        if _in_japan(lat, lon):
            return lat, lon
        if _in_japan(lon, lat):
            self.report.add("coordinates-swapped", "latitude and longitude swapped", row=n,
                            column=self.header("lat"), value=f"{lat_text},{lon_text}")
            return lon, lat
        self.report.add("coordinates-outside-japan", "outside Japan", row=n, column=self.header("lat"),
                        value=f"{lat_text},{lon_text}")
        return None, None

    def _municipality(self, row: Row, address: str | None) -> str | None:
        n = row.number
        by_code = None
        for field in ("location_code", "lg_code"):
            text = self.get(row, field)
            if text and not text.endswith("0001"):  # NN0001 is a prefecture (the publisher), not a place
                by_code = self.gazetteer.from_code(text)
                if by_code is None and field == "location_code":
                    self.report.add("value-invalid", "not a known municipality code", row=n,
                                    column=self.header(field), value=text)
            if by_code is not None:
                break
        by_address = self.gazetteer.from_address(address) if address else None
        if by_address is None and self.get(row, "city_name"):
            by_address = self.gazetteer.from_address(self.get(row, "city_name"))
        if by_code is not None:
            if by_address is not None and by_address.code != by_code.code:
                self.report.add("municipality-mismatch", f"code {by_code.code} ({by_code.name_ja}), address says "
                                f"{by_address.name_ja}", row=n, column=self.header("address"), value=address)
            return by_code.code
        if by_address is not None:
            return by_address.code
        guess = self.gazetteer.mentioned_in(address or "") or self.gazetteer.mentioned_in(self.get(row, "name"))
        if guess is not None:
            self.report.add("municipality-from-name", f"taken as {guess.name_ja} ({guess.code})", row=n,
                            column=self.header("address"), value=address or "")
            return guess.code
        self.report.add("municipality-unknown", "no municipality from code or address", row=n,
                        column=self.header("address"), value=address or "")
        return None


def parse(data: bytes, gazetteer: Gazetteer, *, source: str | None = None, name: str = "",
          limit: int | None = None) -> tuple[list[SiteRecord], Report]:
    """The site records of a Wi-Fi list and the report of everything wrong with it. Never raises on bad input."""
    report = Report(source=name)
    if limit is not None:
        report.limit = limit
    if len(data) > MAX_BYTES:
        report.add("file-too-large", f"{len(data)} bytes, the limit is {MAX_BYTES}")
        return [], report
    header, body = rows(decode(data, report), report)
    columns = _columns(header, report)
    if any(p.code == "header-missing-column" and p.column in ("NO", "名称") for p in report.problems):
        for _ in body:
            report.rows += 1
        return [], report
    reader = _RowReader(columns, gazetteer, report, source)
    records: list[SiteRecord] = []
    seen: dict[tuple[str, str], int] = {}
    for row in body:
        report.rows += 1
        record = reader.record(row)
        if record is None:
            continue
        key = (record.source, record.source_id)
        if key in seen:
            report.add("duplicate-id", f"id {record.source_id} first used in row {seen[key]}", row=row.number,
                       column=reader.header("source_id"), value=record.source_id)
            continue
        seen[key] = row.number
        records.append(record)
    _shared_positions(records, report, reader.header("lat"))
    report.accepted = len(records)
    return records, report


def _shared_positions(records: list[SiteRecord], report: Report, column: str) -> None:
    at: dict[tuple[float, float], list[SiteRecord]] = defaultdict(list)
    for r in records:
        if r.lat is not None and r.lon is not None:
            at[(r.lat, r.lon)].append(r)
    for (lat, lon), group in at.items():
        if len(group) > 1:
            ids = ", ".join(r.source_id for r in group[:10]) + (" ..." if len(group) > 10 else "")
            for r in group:
                report.add("coordinates-shared", f"{len(group)} rows at this position (ids {ids})", row=r.row,
                           column=column, value=f"{lat},{lon}")
