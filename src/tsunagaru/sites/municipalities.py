"""Reference data for municipalities: the shipped list of Tokyo's 62, and finding one from a code or an address.

An address names its municipality right after the prefecture (``東京都新宿区西新宿...``, or after a
county / subprefecture: ``東京都西多摩郡奥多摩町...``). That, or the row's local government code, is how
sites are assigned: never the simplified boundary polygons, which put coastal and border sites in the
wrong ward. English names are romanised from the official readings (Hepburn, long vowels folded, the
suffix translated as the municipalities themselves do: 新宿区 -> "Shinjuku City").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

PREFECTURES = {"13": "東京都"}
DATA_FILE = "tokyo_municipalities.csv"


@dataclass(frozen=True)
class MunicipalityRef:
    code: str
    pref_code: str
    name_ja: str
    name_kana: str
    name_en: str
    kind: str
    district: str  # 郡 or 支庁 the address may name before the municipality ("" for wards and cities)


_KANA = {
    "あ": "a", "い": "i", "う": "u", "え": "e", "お": "o", "か": "ka", "き": "ki", "く": "ku", "け": "ke", "こ": "ko",
    "さ": "sa", "し": "shi", "す": "su", "せ": "se", "そ": "so", "た": "ta", "ち": "chi", "つ": "tsu", "て": "te",
    "と": "to", "な": "na", "に": "ni", "ぬ": "nu", "ね": "ne", "の": "no", "は": "ha", "ひ": "hi", "ふ": "fu",
    "へ": "he", "ほ": "ho", "ま": "ma", "み": "mi", "む": "mu", "め": "me", "も": "mo", "や": "ya", "ゆ": "yu",
    "よ": "yo", "ら": "ra", "り": "ri", "る": "ru", "れ": "re", "ろ": "ro", "わ": "wa", "を": "o", "ん": "n",
    "が": "ga", "ぎ": "gi", "ぐ": "gu", "げ": "ge", "ご": "go", "ざ": "za", "じ": "ji", "ず": "zu", "ぜ": "ze",
    "ぞ": "zo", "だ": "da", "ぢ": "ji", "づ": "zu", "で": "de", "ど": "do", "ば": "ba", "び": "bi", "ぶ": "bu",
    "べ": "be", "ぼ": "bo", "ぱ": "pa", "ぴ": "pi", "ぷ": "pu", "ぺ": "pe", "ぽ": "po",
}
_SMALL = {"ゃ": "a", "ゅ": "u", "ょ": "o"}
_SUFFIX = {"special_ward": ("く", "City"), "city": ("し", "City"), "town": ("まち", "Town"),
           "village": ("むら", "Village")}


def romanise(kana: str) -> str:
    """Hepburn romanisation of a hiragana reading, long vowels folded (とうきょう -> tokyo)."""
    out: list[str] = []
    i = 0
    while i < len(kana):
        ch = kana[i]
        nxt = kana[i + 1] if i + 1 < len(kana) else ""
        if ch == "っ" and nxt in _KANA:
            out.append(_KANA[nxt][0])
        elif ch in _KANA and nxt in _SMALL:
            base = _KANA[ch]  # きょ -> kyo, しゅ -> shu, じょ -> jo
            stem = base[:-1] if base in ("shi", "chi", "ji") else base[:-1] + "y"
            out.append(stem + _SMALL[nxt])
            i += 1
        elif ch in _KANA:
            syllable = _KANA[ch]
            if ch == "ん" and nxt in ("あ", "い", "う", "え", "お", "や", "ゆ", "よ"):
                syllable = "n'"
            out.append(syllable)
        elif ch in ("ヶ", "ケ"):
            out.append("ga")
        i += 1
    text = "".join(out)
    for long, short in (("ou", "o"), ("oo", "o"), ("uu", "u")):
        text = text.replace(long, short)
    return text


def english_name(name_kana: str, kind: str) -> str:
    suffix_kana, suffix_en = _SUFFIX.get(kind, ("", ""))
    stem = name_kana[: -len(suffix_kana)] if suffix_kana and name_kana.endswith(suffix_kana) else name_kana
    word = romanise(stem).replace("'", "")
    return f"{word[:1].upper()}{word[1:]} {suffix_en}".strip()


def parse(text: str) -> tuple[MunicipalityRef, ...]:
    """Rows of the municipalities CSV (``lg_code, name_ja, name_kana, kind, gun_or_shicho`` ...)."""
    out = []
    for row in csv.DictReader(io.StringIO(text)):
        code = row["lg_code"].strip()
        out.append(MunicipalityRef(code, row.get("pref_code") or code[:2], row["name_ja"].strip(),
                                   row["name_kana"].strip(), english_name(row["name_kana"].strip(), row["kind"]),
                                   row["kind"].strip(), (row.get("gun_or_shicho") or "").strip()))
    return tuple(out)


def shipped() -> tuple[MunicipalityRef, ...]:
    """Tokyo's 62 municipalities as shipped in ``tsunagaru/sites/data``."""
    return parse((resources.files("tsunagaru.sites") / "data" / DATA_FILE).read_text(encoding="utf-8"))


class Gazetteer:
    """Municipalities by code and by name, for assigning a site from its code or its address."""

    def __init__(self, refs: tuple[MunicipalityRef, ...]) -> None:
        self.by_code = {r.code: r for r in refs}
        # longest names first, so 西東京市 is tried before 東京..., 府中市 before 府中
        self._names = sorted(refs, key=lambda r: len(r.name_ja), reverse=True)

    def from_code(self, code: str) -> MunicipalityRef | None:
        """A 6-digit municipality code (or the 5 digits without check digit) -> the municipality."""
        code = code.strip()
        if len(code) == 5:
            return next((r for r in self.by_code.values() if r.code[:5] == code), None)
        return self.by_code.get(code)

    def from_address(self, address: str) -> MunicipalityRef | None:
        """The municipality an address names right after its prefecture (and county), or None."""
        text = "".join(address.split())
        for pref in PREFECTURES.values():
            if text.startswith(pref):
                text = text[len(pref):]
                break
        # a county, subprefecture or island may come first: 西多摩郡奥多摩町, 八丈島八丈町
        starts = [0] + [i + 1 for i in range(min(len(text), 6)) if text[i] in "郡島"]
        starts += [i + 2 for i in range(min(len(text), 6)) if text[i:i + 2] == "支庁"]
        for start in starts:
            for ref in self._names:
                if text.startswith(ref.name_ja, start):
                    return ref
        return None

    def mentioned_in(self, text: str) -> MunicipalityRef | None:
        """The one municipality whose name appears anywhere in ``text`` (None when none or several do)."""
        found = {r.code: r for r in self._names if r.name_ja in text}
        # a longer name containing a shorter one (西東京市 / 東京...) counts once
        names = [r.name_ja for r in found.values()]
        unique = [r for r in found.values() if not any(r.name_ja != n and r.name_ja in n for n in names)]
        return unique[0] if len(unique) == 1 else None
