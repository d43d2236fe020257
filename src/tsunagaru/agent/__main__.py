"""``python -m tsunagaru.agent --url ... --token-file ...`` (same options as ``tsunagaru ap agent``)."""

import sys

from tsunagaru.agent.cli import main

sys.exit(main())
