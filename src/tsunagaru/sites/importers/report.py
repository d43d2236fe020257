"""The validation report of an import: typed problems with stable codes, row, column and value.

Shaped after frictionless' reports (a list of errors with a type, a row number and a field), written by
hand because the checks are specific to Japanese Wi-Fi lists and the report must also carry what the
importer did about each problem. An import never aborts on a bad row: every problem of every row is
collected; past ``limit`` problems the details stop (``partial``) while the counts stay complete.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_LIMIT = 10_000

# code -> (severity, what it means). Errors skip the row (or the file); warnings keep it, as described.
CODES: dict[str, tuple[str, str]] = {
    "file-too-large": ("error", "the file is larger than the import limit"),
    "encoding-undecodable": ("error", "the bytes are neither UTF-8 nor Shift_JIS (cp932); undecodable bytes replaced"),
    "csv-malformed": ("error", "the CSV could not be read past this row (quotes, NUL bytes, huge fields)"),
    "header-missing-column": ("error", "a column the importer needs is not in the header"),
    "header-unknown-column": ("warning", "a column the importer does not know; its values are ignored"),
    "row-length": ("warning", "the row has more or fewer cells than the header"),
    "required-empty": ("error", "a required value is empty; the row is skipped"),
    "schema-required-empty": ("warning", "a column the national schema requires is empty; imported without it"),
    "value-too-long": ("error", "a value is longer than the registry stores; the row is skipped"),
    "duplicate-id": ("error", "the row's id was used by an earlier row; the later row is skipped"),
    "address-missing": ("warning", "no address"),
    "address-broken": ("warning", "the address does not start with a prefecture and municipality"),
    "municipality-unknown": ("warning", "no municipality from the code or the address; imported unassigned"),
    "municipality-from-name": ("warning", "municipality taken from a broken address's text; check it"),
    "municipality-mismatch": ("warning", "the row's municipality code and its address disagree; the code is used"),
    "coordinates-missing": ("warning", "no latitude/longitude; imported without a position"),
    "coordinates-invalid": ("warning", "latitude/longitude are not numbers; imported without a position"),
    "coordinates-outside-japan": ("warning", "the position is outside Japan; imported without a position"),
    "coordinates-swapped": ("warning", "latitude and longitude were swapped; imported swapped back"),
    "coordinates-shared": ("warning", "another row has exactly the same position"),
    "date-invalid": ("warning", "the date is not a date; imported without it"),
    "value-invalid": ("warning", "a value is not what the column holds; imported without it"),
    "out-of-scope": ("error", "the row's municipality is outside the importer's scope; skipped"),
    "site-unknown": ("error", "the AP's site is not in the registry; skipped"),
    "document-invalid": ("error", "not a registry document this version reads"),
    "item-refused": ("error", "an item of the document was refused; nothing of it was stored"),
}


@dataclass(frozen=True)
class Problem:
    code: str
    row: int | None  # the CSV row number, header = 1 (as spreadsheets and frictionless count)
    column: str | None
    value: str | None
    message: str

    @property
    def severity(self) -> str:
        return CODES[self.code][0]


@dataclass
class Report:
    """What an import found: problems (bounded), counts per code (complete), and the file's properties."""

    source: str = ""
    encoding: str | None = None
    newline: str | None = None
    rows: int = 0
    accepted: int = 0
    limit: int = DEFAULT_LIMIT
    problems: list[Problem] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    partial: bool = False

    def add(self, code: str, message: str, *, row: int | None = None, column: str | None = None,
            value: str | None = None) -> None:
        assert code in CODES, code
        self.counts[code] += 1
        if len(self.problems) >= self.limit:
            self.partial = True
            return
        self.problems.append(Problem(code, row, column, None if value is None else value[:200], message))

    @property
    def errors(self) -> int:
        return sum(n for code, n in self.counts.items() if CODES[code][0] == "error")

    @property
    def warnings(self) -> int:
        return sum(n for code, n in self.counts.items() if CODES[code][0] == "warning")

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source, "encoding": self.encoding, "newline": self.newline, "rows": self.rows,
            "accepted": self.accepted, "errors": self.errors, "warnings": self.warnings, "partial": self.partial,
            "counts": dict(sorted(self.counts.items())),
            "problems": [{**asdict(p), "severity": p.severity} for p in self.problems],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1)

    def summary(self) -> str:
        lines = [f"{self.source}: {self.rows} rows read, {self.accepted} accepted, {self.errors} errors, "
                 f"{self.warnings} warnings" + (f" (details of the first {self.limit} only)" if self.partial else "")]
        for code, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append(f"  {n:6d}  {CODES[code][0]:7s}  {code}: {CODES[code][1]}")
        return "\n".join(lines)
