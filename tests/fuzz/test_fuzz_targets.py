"""Short runs of the atheris targets for the TOML readers and the zone-file reader (`make fuzz` runs them
long), and the inputs they once crashed on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tsunagaru.discovery import ZoneFileError, ZoneFileSource

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target", ["fuzz_toml.py", "fuzz_zonefile.py"])
def test_fuzz_target_short_run(tmp_path: Path, target: str) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "fuzz" / target), "-atheris_runs=2000"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done 2000" in result.stderr


@pytest.mark.parametrize("text", ["", "; only a comment\n", "@ IN A 192.0.2.1\n"])
def test_zone_without_an_origin_is_a_typed_error(text: str) -> None:
    """Found by fuzz_zonefile: dnspython asserts an origin (AssertionError), which escaped as a traceback."""
    with pytest.raises(ZoneFileError):
        ZoneFileSource.from_text(text)


def test_unreadable_zone_file_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "realms.zone"
    path.write_bytes(b"$ORIGIN \xff.\n")
    with pytest.raises(ZoneFileError, match="not UTF-8"):
        ZoneFileSource.from_file(path)


def test_generate_directive_is_refused_not_expanded() -> None:
    """One ``$GENERATE`` line makes as many records as its range says (dnspython has no bound): refused."""
    text = "$ORIGIN r.example.\n$TTL 60\n$GENERATE 0-4000000000 h$ IN A 192.0.2.1\n"
    with pytest.raises(ZoneFileError, match=r"\$GENERATE"):
        ZoneFileSource.from_text(text)


@pytest.mark.parametrize("directive", ["$INCLUDE /etc/passwd", "$UNICODE 2008"])
def test_other_directives_are_refused(directive: str) -> None:
    with pytest.raises(ZoneFileError, match="not allowed"):
        ZoneFileSource.from_text(f"$ORIGIN r.example.\n$TTL 60\n{directive}\n")
