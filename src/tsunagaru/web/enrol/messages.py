"""The portal's languages: Babel catalogs (``locale/<lang>/LC_MESSAGES/enrol.po``) compiled in memory at
start, the choice of language (a ``lang`` parameter, then the cookie, then Accept-Language), and the
text of every error in the person's language.

Message ids are marked ``tr("...")`` in templates and ``catalogs.text(lang, "...")`` in code (extraction
keywords ``tr`` and ``text``), so the dashboard's extraction (``_``, ``gettext``) never mixes the two
catalogs. English is the source language (message ids are the English text); Japanese covers every page, and
Simplified Chinese, Traditional Chinese and Korean cover the visitor-facing pages (about, sign-up,
device choice) and the mails; anything not translated falls back to English.
"""

from __future__ import annotations

import gettext
import io
import logging
from importlib import resources

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tsunagaru.web.i18n import _weighted

log = logging.getLogger(__name__)

LANGUAGES = ("en", "ja", "zh_Hans", "zh_Hant", "ko")
DEFAULT = "en"
NAMES = {"en": "English", "ja": "日本語", "zh_Hans": "简体中文", "zh_Hant": "繁體中文", "ko": "한국어"}
HTML_LANG = {"en": "en", "ja": "ja", "zh_Hans": "zh-Hans", "zh_Hant": "zh-Hant", "ko": "ko"}
DOMAIN = "enrol"
MAX_ACCEPT = 512

ERRORS = {
    "bad_email": "That does not look like an e-mail address. Please check it and try again.",
    "bad_input": "Something in the form was too long or not readable. Please check it and try again.",
    "rate_limited": "Too many codes were asked for. Please wait an hour and try again.",
    "code_wrong": "That code is not right. Please check the mail and try again.",
    "code_expired": "That code has expired. Please ask for a new one.",
    "code_used": "That code was already used or replaced by a newer one. Please ask for a new one.",
    "code_attempts": "Too many wrong codes. Please ask for a new one.",
    "account_disabled": "This account has been disabled by the city. Please contact the help desk.",
    "not_signed_in": "Please sign in first.",
    "unknown_platform": "Please choose one of the devices listed.",
    "unknown_method": "Please choose one of the sign-in methods listed.",
    "method_not_offered": "That sign-in method is not available for this device.",
    "too_many_devices": "You have reached the limit of devices. Remove one in \u201cMy devices\u201d first.",
    "device_not_found": "That device was not found.",
    "device_revoked": "That device was removed; its profile can no longer be downloaded.",
    "link_invalid": "This link is not valid. Please add the device again.",
    "link_expired": "This link has expired. Please add the device again.",
    "link_used": "This link was already used. Each profile can be downloaded once; add the device again.",
    "mail_failed": "We could not send the mail just now. Please try again in a few minutes.",
    "profile_unavailable": "A profile for this device cannot be made right now. Please choose another device.",
    "forbidden": "You are not allowed to do this.",
    "csrf": "The form was too old or came from another page. Please reload the page and try again.",
    "error": "Something went wrong. Please try again.",
}


def _gettext_noop(text: str) -> str:
    return text


class Catalogs:
    """Every language's translations, loaded once."""

    def __init__(self) -> None:
        self._translations: dict[str, gettext.NullTranslations] = {DEFAULT: gettext.NullTranslations()}
        base = resources.files("tsunagaru.web.enrol") / "locale"
        for lang in LANGUAGES[1:]:
            po = base / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
            try:
                with po.open("rb") as f:
                    catalog = read_po(f, locale=lang)
            except (OSError, ValueError, UnknownLocaleError) as exc:
                log.error("catalog %s unreadable: %s", lang, exc)
                continue
            buf = io.BytesIO()
            write_mo(buf, catalog)
            buf.seek(0)
            translations = gettext.GNUTranslations(buf)
            translations.add_fallback(self._translations[DEFAULT])
            self._translations[lang] = translations

    def pick(self, text: str | None) -> str:
        """A supported language for what a person or a script asked (``ja``, ``zh-TW``, ``zh_Hans``...)."""
        if not text:
            return DEFAULT
        found = _match(text.strip().replace("-", "_"))
        return found or DEFAULT

    def negotiate(self, accept_language: str | None) -> str | None:
        """The first supported language in an Accept-Language header, or None."""
        if not accept_language:
            return None
        for q, tag in _weighted(accept_language[:MAX_ACCEPT]):  # the dashboard's parser: bounded, q-sorted
            found = _match(tag.replace("-", "_")) if tag != "*" else None
            if found and q > 0:
                return found
        return None

    def get(self, lang: str) -> gettext.NullTranslations:
        return self._translations.get(lang, self._translations[DEFAULT])

    def text(self, lang: str, message: str) -> str:
        """``message`` in ``lang``. The portal marks its messages with ``tr`` (templates) and ``text``
        (code), not ``_``/``gettext``: they belong to this catalog, not to the dashboard's."""
        return self.get(lang).gettext(message)

    def error(self, lang: str, key: str) -> str:
        return self.get(lang).gettext(ERRORS.get(key, ERRORS["error"]))


def _match(tag: str) -> str | None:
    if tag in LANGUAGES:
        return tag
    try:
        locale = Locale.parse(tag)
    except (ValueError, UnknownLocaleError):
        return None
    if locale.language == "zh":
        script = locale.script or ("Hant" if locale.territory in ("TW", "HK", "MO") else "Hans")
        return f"zh_{script}"
    return locale.language if locale.language in LANGUAGES else None


# Message ids used only through ERRORS (so that extraction sees them).
_ = _gettext_noop
