"""The proxy's access line from its template (``AccessLog.access``) is the line ``AccessLog.write`` gives."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tsunagaru import logs
from tsunagaru.radius.reasons import RejectReason


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    logger = logging.getLogger("tsunagaru.test-access")
    handler = logging.StreamHandler(out)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield out
    finally:
        logger.removeHandler(handler)


def lines_of(stream: io.StringIO) -> list[str]:
    text = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    return text.splitlines()


def both(stream: io.StringIO, realm: str, cui: str | None, client: str | None, outcome: str, reason: int | None,
         ms: float) -> tuple[dict[str, object], dict[str, object], str, str]:
    log = logs.AccessLog(logging.getLogger("tsunagaru.test-access"))
    log.write(realm=realm, cui=cui, client=client, outcome=outcome, reason=reason, ms=ms)
    log.access(realm, cui, client, outcome, reason, ms)
    log.flush()
    old, new = lines_of(stream)
    a, b = json.loads(old), json.loads(new)
    a.pop("ts"), b.pop("ts")  # written a moment apart
    return a, b, old.split(", ", 1)[1], new.split(", ", 1)[1]


def test_the_template_line_is_the_generic_line(stream: io.StringIO) -> None:
    for args in [("idp.example", None, "ap-1", "accept", None, 1.5),
                 ("-", "@idp.example#0123456789abcdef", None, "reject", int(RejectReason.PROTOCOL_TIMEOUT), 4000.0),
                 ('r"al\\m\u00e9\u3042\n', None, "c\u00e9", "challenge", 21, 0.0)]:
        a, b, old, new = both(stream, *args)
        assert a == b and old == new  # the same text, byte for byte, after the time stamp


@given(realm=st.text(max_size=40), cui=st.none() | st.text(max_size=30), client=st.none() | st.text(max_size=20),
       reason=st.none() | st.integers(0, 255), ms=st.floats(0, 1e6, allow_nan=False).map(lambda x: round(x, 1)))
def test_any_values_give_the_same_line(realm: str, cui: str | None, client: str | None, reason: int | None,
                                       ms: float) -> None:
    out = io.StringIO()
    logger = logging.getLogger("tsunagaru.test-access-prop")
    handler = logging.StreamHandler(out)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    log = logs.AccessLog(logger)
    log.write(realm=realm, cui=cui, client=client, outcome="accept", reason=reason, ms=ms)
    log.access(realm, cui, client, "accept", reason, ms)
    log.flush()
    old, new = out.getvalue().split("\n")[:2]
    assert old.split(", ", 1)[1] == new.split(", ", 1)[1]


def test_redact_cached_follows_the_key() -> None:
    saved = logs._key[0]
    try:
        logs.use_key(b"k" * 32)
        first = logs.redact_cached(b"cui-1")
        assert first == logs.redact(b"cui-1")
        logs.use_key(b"j" * 32)
        assert logs.redact_cached(b"cui-1") == logs.redact(b"cui-1") != first
    finally:
        logs._key[0] = saved
