"""Languages of the pages and error messages: negotiation, catalogs, and Babel formatting.

Negotiation follows Warehouse: an explicit choice (``?lang=`` from the switch, remembered in a cookie)
first, then ``Accept-Language``, then Japanese (the city's staff). Catalogs are the ``.po`` files under
``locale/``, compiled in memory when first needed, so a clean checkout or an installed wheel never
lacks a ``.mo`` file and nobody has to remember a build step. A translation whose placeholders do not
match the source falls back to the source string rather than failing the page.
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any, TypeVar

from babel import Locale, dates, numbers
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from markupsafe import Markup

LOCALES = ("ja", "en")
DEFAULT = "ja"
COOKIE = "tsg_lang"
DOMAIN = "messages"


def _weighted(header: str) -> list[tuple[float, str]]:
    choices: list[tuple[float, str]] = []
    for part in header.split(",")[:20]:  # bounded: a header with thousands of entries is not worth reading
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag:
            choices.append((q, tag.strip().lower()))
    return sorted(choices, key=lambda c: -c[0])


def negotiate(choice: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The locale to use: explicit choice, then the cookie, then Accept-Language, then Japanese."""
    for explicit in (choice, cookie):
        if explicit in LOCALES:
            return explicit
    for q, tag in _weighted(accept_language or ""):
        primary = tag.split("-")[0]
        if q > 0 and primary in LOCALES:
            return primary
    return DEFAULT


@functools.cache
def translations(locale: str) -> Translations:
    """The compiled catalog of ``locale`` (compiled from its .po in memory, once per process)."""
    po = resources.files("tsunagaru.web") / "locale" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=locale, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog, use_fuzzy=False)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


S = TypeVar("S", str, Markup)


def _format(text: S, source: S, values: dict[str, Any]) -> S:
    """``text % values``; the source string when the translation's placeholders do not fit, and the bare
    source when even that fails (a caller passing the wrong names must not break a page)."""
    for candidate in (text, source):
        try:
            return candidate % values
        except (KeyError, ValueError, TypeError):
            continue
    return source


@dataclass(frozen=True, slots=True)
class Translator:
    """One locale's gettext and Babel formatting, handed to templates and error handlers per request."""

    locale: str

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.locale).gettext(message)
        if not values:
            return text
        return _format(text, message, values)

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = translations(self.locale).ngettext(singular, plural, n)
        values.setdefault("num", n)
        return _format(text, singular if n == 1 else plural, values)

    # Jinja2's i18n extension (newstyle) calls these; values are escaped into the translated markup.
    def template_gettext(self, message: str, **values: Any) -> Markup:
        text = translations(self.locale).gettext(message)
        if not values:
            return Markup(text)
        return _format(Markup(text), Markup(message), values)

    def template_ngettext(self, singular: str, plural: str, n: int, **values: Any) -> Markup:
        text = translations(self.locale).ngettext(singular, plural, n)
        values.setdefault("num", n)
        return _format(Markup(text), Markup(singular if n == 1 else plural), values)

    def datetime(self, value: datetime | None) -> str:
        if value is None:
            return "—"
        return dates.format_datetime(value, format="medium", tzinfo=dates.get_timezone("Asia/Tokyo"),
                                     locale=self.locale)

    def number(self, value: int | float) -> str:
        return numbers.format_decimal(value, locale=self.locale)

    def language_name(self, code: str) -> str:
        return Locale.parse(code).get_display_name(code) or code
