"""Usage charts as server-rendered SVG (pygal): no chart script in the browser, nothing fetched from elsewhere.

pygal's interactive tooltips load a script from its own web site by default; ``js=[]`` turns that off
and the inline config script it still writes is removed (the page's Content-Security-Policy would refuse
both anyway), so the SVG is a plain image. Counts from 1
to 4 are not drawn for roles other than city admins (the "<5" rule of ``tsunagaru.ops.usage``): such an
hour is a gap, and the caption says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from tsunagaru.ops.usage import SMALL

SCRIPT = re.compile(rb"<script\b[^>]*>.*?</script>", re.S)
STYLE = Style(background="white", plot_background="white", foreground="#222", foreground_strong="#111",
              foreground_subtle="#888", colors=("#1f6feb", "#d9480f", "#2b8a3e", "#862e9c"),
              font_family="'Noto Sans CJK JP', 'Noto Sans', sans-serif", label_font_size=12,
              major_label_font_size=12, title_font_size=15, legend_font_size=12)


def hours(now: datetime, count: int = 24) -> list[datetime]:
    top = now.replace(minute=0, second=0, microsecond=0)
    return [top - timedelta(hours=count - 1 - i) for i in range(count)]


def shown(value: int, exact: bool) -> int | None:
    return value if exact or value == 0 or value >= SMALL else None


def usage_svg(title: str, slots: Sequence[datetime], series: Sequence[tuple[str, Sequence[int]]], exact: bool,
              labels_tz: str = "Asia/Tokyo") -> bytes:
    """A line chart of per-hour values (one list per series, aligned with ``slots``)."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(labels_tz)
    chart = pygal.Line(js=[], style=STYLE, width=820, height=320, show_dots=False, fill=False, title=title,
                       x_label_rotation=0, show_minor_x_labels=False, truncate_legend=-1, truncate_label=-1,
                       legend_at_bottom=True,
                       explicit_size=True, disable_xml_declaration=False, include_x_axis=True, min_scale=4)
    chart.x_labels = [s.astimezone(tz).strftime("%H:%M") for s in slots]
    chart.x_labels_major = [label for i, label in enumerate(chart.x_labels) if i % 3 == 0]
    for name, values in series:
        chart.add(name, [shown(v, exact) for v in values], allow_interruptions=True)
    svg: bytes = chart.render()
    return SCRIPT.sub(b"", svg)  # pygal writes its config as a script even with js=[]; an image needs none
