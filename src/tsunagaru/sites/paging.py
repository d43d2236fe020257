"""Pagination bounds shared by every list: a page is at most MAX_LIMIT rows, offsets are not negative."""

from __future__ import annotations

from tsunagaru.sites.errors import Invalid

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def window(limit: int, offset: int) -> tuple[int, int]:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(f"limit must be 1 to {MAX_LIMIT}", field="limit")
    if isinstance(offset, bool) or not isinstance(offset, int) or not 0 <= offset <= 10**9:
        raise Invalid("offset must be 0 or more", field="offset")
    return limit, offset
