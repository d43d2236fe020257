"""The portal's catalogs: every message in Japanese; every visitor-facing one also in Simplified Chinese,
Traditional Chinese and Korean (the staff page is Japanese and English only); placeholders kept."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from tsunagaru.web.enrol.messages import ERRORS, Catalogs
from tsunagaru.web.enrol.pages import PLATFORM_LABELS

ENROL = Path(__file__).resolve().parents[3] / "src" / "tsunagaru" / "web" / "enrol"
STAFF_ONLY = ENROL / "templates" / "staff.html"


def _ids(files: str) -> set[str]:
    method_map = [(files, "jinja2" if files.endswith("html") else "python")]
    found = extract_from_dir(str(ENROL), method_map, keywords={"tr": None, "text": (2,)})
    return {m[2] if isinstance(m[2], str) else m[2][0] for m in found}


def test_every_message_is_translated() -> None:
    catalogs = Catalogs()
    everything = _ids("templates/**.html") | _ids("**.py") | set(ERRORS.values()) | set(PLATFORM_LABELS.values())
    assert "Send me a code" in everything and "Your Tsunagaru Wi-Fi sign-up code" in everything
    visitor_templates = set().union(*(_ids(f"templates/{p.name}") for p in (ENROL / "templates").glob("*.html")
                                      if p != STAFF_ONLY))
    staff = _ids("templates/staff.html") - visitor_templates
    assert "Find" in staff and "Remove" not in staff
    same_everywhere = {"Mac", "Android", "Windows 11", "Tsunagaru Wi-Fi", "Linux (wpa_supplicant)"}
    for lang in ("ja", "zh_Hans", "zh_Hant", "ko"):
        expected = everything - (staff if lang != "ja" else set())
        missing = sorted(m for m in expected if catalogs.text(lang, m) == m and m not in same_everywhere)
        assert missing == [], (lang, missing)
        for message in expected:
            wanted = sorted(re.findall(r"%\(\w+\)[sd]", message))
            assert sorted(re.findall(r"%\(\w+\)[sd]", catalogs.text(lang, message))) == wanted, (lang, message)
