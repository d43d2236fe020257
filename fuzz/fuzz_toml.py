"""atheris fuzz target for the TOML configuration readers (`make fuzz-toml`; a short run is in the tests).

The property: any octets, read as the ANP's or the IdP's configuration file, end in a parsed
configuration or one :class:`~tsunagaru.tomlconf.ConfigError` (which is what the CLIs print as one line
and exit 2 on); nothing else escapes: no UnicodeDecodeError, no KeyError, no TypeError from a value of
an unexpected type. Seeds: the documented examples and the test file (``fuzz/corpus-toml``).

Speed (about 300 exec/s before): nothing is set up per run (no files: ``parse`` takes the text and only
names paths), so the cost was the standard library's pure-Python ``tomllib`` under atheris' branch
tracing, five times its plain cost and run twice per input. ``tomllib`` is now left uninstrumented:
coverage is measured on our readers (``tsunagaru``), which is where a value of an unexpected type must
turn into a ConfigError; every input still goes through both services' ``parse`` exactly as they call
it. Inputs are bounded at 4,096 octets (``-max_len``; the largest seed, the documented ANP file, is 3.7 kB).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["tsunagaru"]):
    from tsunagaru.anp import config as anp_config
    from tsunagaru.idp import config as idp_config
    from tsunagaru.tomlconf import ConfigError, decode_text, hostport

SEEDS = Path(__file__).with_name("corpus-toml")
BASE = Path("/nonexistent-fuzz-base")  # files are only named, never opened by parse()
MAX_LEN = 4096


def test_one_input(data: bytes) -> None:
    try:
        text = decode_text(data)
    except ConfigError:
        return
    for parse in (anp_config.parse, idp_config.parse):
        with contextlib.suppress(ConfigError):
            parse(text, base=BASE)
    with contextlib.suppress(ConfigError):
        hostport(text[:80], "fuzz", 2083)


def main() -> None:
    from seeds import argv_with_seeds

    atheris.Setup(argv_with_seeds(sys.argv, SEEDS, MAX_LEN), test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
