"""Chargeable-User-Identity values (RFC 4372) that operators cannot link.

The value is a keyed hash of the user and the Operator-Name that asked: stable for one operator (it can
bill and rate-limit one subscriber across sessions) but different for every other operator, so two ANPs
comparing notes cannot tell they saw the same person. The key is the IdP's secret; rotating it
changes every CUI, which is a deliberate, documented operator action.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

CUI_PREFIX = b"cui-"


def chargeable_user_identity(key: bytes, user_id: str, operator_name: bytes | None) -> bytes:
    """CUI for ``user_id`` as seen by ``operator_name`` (None or empty: the AP sent no Operator-Name)."""
    if len(key) < 16:
        raise ValueError("the CUI key must be at least 16 octets")
    msg = user_id.encode("utf-8") + b"\x00" + (operator_name or b"")
    digest = hmac.new(key, msg, hashlib.sha256).digest()[:18]
    return CUI_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=")
