"""Reading a CSV from bytes whatever its encoding and line endings: UTF-8 (with or without BOM) or cp932.

Japanese open data is mostly Shift_JIS (in practice Microsoft's cp932, which adds the NEC and IBM
extensions that real files use, such as circled digits and ㈱), sometimes UTF-8 with a BOM from Excel.
UTF-8 is tried first because it is self-checking: cp932 decodes many byte strings that are not cp932.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from tsunagaru.sites.importers.report import Report

MAX_BYTES = 64 * 1024 * 1024


def decode(data: bytes, report: Report) -> str:
    """The text of ``data``; records the encoding and line ending found in ``report``."""
    if data.startswith(b"\xef\xbb\xbf"):
        text, report.encoding = data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
        if "\ufffd" in text:
            report.add("encoding-undecodable", "bytes that are not UTF-8 after a UTF-8 BOM")
    else:
        try:
            text, report.encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            try:
                text, report.encoding = data.decode("cp932"), "cp932"
            except UnicodeDecodeError as exc:
                text, report.encoding = data.decode("cp932", errors="replace"), "cp932"
                report.add("encoding-undecodable", f"not UTF-8, and not Shift_JIS at byte {exc.start}")
    crlf = text.count("\r\n")
    report.newline = "crlf" if crlf and crlf >= text.count("\n") - crlf else ("lf" if "\n" in text else None)
    return text


def normalise_header(name: str) -> str:
    """Header cells compared loosely: NFKC (full-width to half-width), no spaces, no BOM, case-folded."""
    return "".join(unicodedata.normalize("NFKC", name).replace("\ufeff", "").split()).casefold()


@dataclass(frozen=True)
class Row:
    number: int  # header = 1
    cells: dict[str, str]  # normalised header -> value (stripped)


def rows(text: str, report: Report) -> tuple[list[str], Iterator[Row]]:
    """The header (as written) and the data rows; a row the csv module cannot read ends the file, reported."""
    reader = csv.reader(io.StringIO(text.replace("\x00", ""), newline=""), strict=False)
    try:
        header = next(reader, [])
    except csv.Error as exc:
        report.add("csv-malformed", f"header: {exc}", row=1)
        return [], iter(())
    keys = [normalise_header(h) for h in header]

    def generate() -> Iterator[Row]:
        number = 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                report.add("csv-malformed", str(exc), row=number + 1)
                return
            number += 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(keys):
                report.add("row-length", f"{len(cells)} cells, the header has {len(keys)}", row=number)
            yield Row(number, {k: (cells[i].strip() if i < len(cells) else "") for i, k in enumerate(keys)})

    return header, generate()
