"""Words for the registry's codes (states, categories, roles) in the page's language; one table, used by
every template, so a code never shows up untranslated on a Japanese page."""

from __future__ import annotations

from tsunagaru.web.errors import _
from tsunagaru.web.i18n import Translator

NAMES = {
    # config states of an AP
    "current": _("current"), "pending": _("pending"), "failed": _("failed"), "silent": _("silent"),
    "new": _("never pulled"),
    # site, AP and organisation states
    "active": _("active"), "planned": _("planned"), "retired": _("retired"), "disabled": _("disabled"),
    "approved": _("approved"), "rejected": _("rejected"), "review": _("under review"),
    # organisation kinds
    "city": _("city"), "municipality": _("municipality"), "site-operator": _("site operator"),
    # site categories
    "phone-booth": _("phone booth"), "signage": _("digital signage"), "park": _("park"),
    "transport": _("transport"), "tourist-info": _("tourist information"), "facility": _("city facility"),
    "municipal": _("municipal facility"), "station": _("station"), "shop": _("shop"), "hotel": _("hotel"),
    "shelter": _("shelter"), "library": _("library"), "other": _("other"),
    # roles
    "city-admin": _("City administrator"), "municipality-operator": _("Municipality operator"),
    "viewer": _("Viewer"), "auditor": _("Auditor"),
    # platforms
    "hostapd": "hostapd", "openwrt": "OpenWrt",
}


def names(t: Translator) -> dict[str, str]:
    out = {code: t.gettext(text) for code, text in NAMES.items()}
    out["site-operator-role"] = t.gettext("Site operator")
    return out
