"""Optional mypyc build of the ANP's typed sans-IO hot path; everything else about the package is in pyproject.toml.

Pure Python by default, so the package installs and runs wherever Python does. With ``TSUNAGARU_MYPYC=1``
the modules below are compiled to C extensions by mypyc (they already pass ``mypy --strict``); the
``.py`` files stay beside them and are what runs where no extension was built. What it gives per
proxied request is in ``bench/README.md``. Needs mypy, a C compiler and the Python headers (Debian:
gcc, python3-dev), and ``--no-build-isolation`` so that the build sees the mypy already installed:

    TSUNAGARU_MYPYC=1 pip install --no-build-isolation .     # a production install, compiled
    make mypyc                                               # in place in a checkout (make mypyc-clean undoes it)

Not compiled, on purpose: modules other parts edit often and that are off the per-request path, and
``anp/metrics.py`` (mypyc refuses the ``__getattr__`` with which its ``Labelled`` stands in for
prometheus_client's children). The RadSec session, its tracker and the reply cache
(``radsec/session.py``, ``radsec/tracker.py``, ``net/replay.py``) held generic dataclasses, which fail at
import once compiled ("attribute '__dict__' of 'type' objects is not writable"); they are plain generic
classes now and compile with the rest (``tests/radsec/test_mypyc.py``). The ANP's own glue is compiled
although it does I/O (``anp/server.py``: the datagram callback and the relay, ``net/datagram.py``: the UDP
socket, ``radsec/writes.py``, ``radsec/client.py``, ``radsec/pool.py``, ``anp/wiring.py``): that glue was a
large share of the CPU left per request (figures per set of modules in ``bench/README.md``).
Compiled classes cannot be monkeypatched; tests that do so run against the pure modules.
"""

from __future__ import annotations

import os

from setuptools import setup

MYPYC_MODULES = [
    "src/tsunagaru/radius/codes.py",
    "src/tsunagaru/radius/errors.py",
    "src/tsunagaru/radius/packet.py",
    "src/tsunagaru/radius/auth.py",
    "src/tsunagaru/radius/hiding.py",
    "src/tsunagaru/radius/digest.py",
    "src/tsunagaru/anp/nai.py",
    "src/tsunagaru/anp/admit.py",
    "src/tsunagaru/anp/decorate.py",
    "src/tsunagaru/anp/translate.py",
    "src/tsunagaru/anp/core.py",
    "src/tsunagaru/radsec/framing.py",
    "src/tsunagaru/radsec/writes.py",
    "src/tsunagaru/anp/affinity.py",
    "src/tsunagaru/anp/server.py",
    "src/tsunagaru/net/datagram.py",
    "src/tsunagaru/net/replay.py",
    "src/tsunagaru/net/folded.py",
    "src/tsunagaru/radsec/tracker.py",
    "src/tsunagaru/radsec/watchdog.py",
    "src/tsunagaru/radsec/session.py",
    "src/tsunagaru/radsec/client.py",
    "src/tsunagaru/radsec/pool.py",
    "src/tsunagaru/anp/clients.py",
    "src/tsunagaru/anp/routing.py",
    "src/tsunagaru/anp/activity.py",
    "src/tsunagaru/anp/wiring.py",
]


def ext_modules() -> list[object]:
    if os.environ.get("TSUNAGARU_MYPYC", "").lower() not in ("1", "yes", "true"):
        return []
    from mypyc.build import mypycify

    return list(mypycify(MYPYC_MODULES, opt_level=os.environ.get("MYPYC_OPT_LEVEL", "3")))


if __name__ == "__main__":
    setup(ext_modules=ext_modules())
