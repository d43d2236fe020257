"""Debian's hostapd accepts every golden config (see hostapd_run.py for what the wired run changes)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from tests.passpoint.goldens import GOLDEN, NOW, all_cases, rendered
from tests.passpoint.hostapd_run import ports, run_hostapd, split_bsses, wired, wired_link
from tsunagaru.passpoint.description import parse_description
from tsunagaru.passpoint.hostapd_keys import KNOWN_KEYS
from tsunagaru.passpoint.lint import lint_hostapd
from tsunagaru.passpoint.model import DisasterState
from tsunagaru.passpoint.plan import plan_ap
from tsunagaru.passpoint.render.hostapd import render_hostapd

pytestmark = pytest.mark.timeout(180)
CONFS = sorted(name for case, disaster in all_cases() for name in rendered(case, disaster) if name.endswith(".conf"))


def example_confs() -> dict[str, str]:
    """What ``passpoint render`` makes of ``passpoint example``, with and without --disaster."""
    desc = parse_description(resources.files("tsunagaru.passpoint").joinpath("example.toml").read_text("utf-8"))
    out = {}
    for state in (DisasterState(), desc.disaster):
        plan = plan_ap(desc.operator, desc.site, desc.ap, state, NOW)
        for name, data in render_hostapd(plan, desc.secrets).items():
            out[f"example{'-disaster' if state.until else ''}-{name}"] = data.decode()
    return out


@pytest.mark.parametrize("name", CONFS + sorted(example_confs()))
def test_hostapd_parses_whole_file_and_enables_each_bss(name: str, tmp_path: Path) -> None:
    text = example_confs()[name] if name.startswith("example") else (GOLDEN / name).read_text(encoding="utf-8")
    radio, bsses = split_bsses(text)
    assert bsses, "no BSS in the file"
    with wired_link() as link:
        whole = radio + [line for bss in bsses for line in bss]
        parsed = run_hostapd(wired(whole, link, ports(), proxy_arp=True), tmp_path / "whole", timeout=5)
        assert not parsed.parse_errors, f"hostapd rejected {name}: {parsed.parse_errors}"
        for i, bss in enumerate(bsses):
            alone = radio + [line for line in bss if not line.startswith("bss=")]
            one = run_hostapd(wired(alone, link, ports(), proxy_arp=False), tmp_path / f"bss{i}")
            assert not one.parse_errors, f"hostapd rejected BSS {i} of {name}: {one.parse_errors}"
            assert one.enabled, f"BSS {i} of {name} did not reach AP-ENABLED:\n{one.log[-2500:]}"


def test_a_rejected_key_fails_with_hostapds_line(tmp_path: Path) -> None:
    radio, bsses = split_bsses((GOLDEN / "city-facility.radio0.conf").read_text(encoding="utf-8"))
    with wired_link() as link:
        conf = wired(radio + bsses[0] + ["hs20_bogus_option=1"], link, ports(), proxy_arp=False)
        outcome = run_hostapd(conf, tmp_path)
    line = conf.splitlines().index("hs20_bogus_option=1") + 1
    assert f"Line {line}: unknown configuration item 'hs20_bogus_option'" in outcome.parse_errors[0]
    assert not outcome.enabled
    assert (line, "PP001") in lint_hostapd(conf).flat()  # the linter names the line hostapd names


def test_every_key_in_the_linter_table_is_known_to_hostapd(tmp_path: Path) -> None:
    with wired_link() as link:
        keys = sorted(KNOWN_KEYS - {"interface", "bss", "driver", "bridge", "ctrl_interface"})
        conf = f"interface={link.ap}\ndriver=wired\n" + "".join(f"{k}=0\n" for k in keys)
        outcome = run_hostapd(conf, tmp_path, timeout=5)
    unknown = [e for e in outcome.parse_errors if "unknown configuration item" in e]
    assert not unknown, f"keys the linter accepts but hostapd 2.10 refuses: {unknown}"
