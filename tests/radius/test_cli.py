"""`tsunagaru radius decode`: JSON out, secrets only with the secret, exit 2 on malformed input."""

from __future__ import annotations

import json

import pytest

from tests.radius.test_rfc_vectors import ACCESS_ACCEPT_7_1, ACCESS_REQUEST_7_1
from tsunagaru.cli import main
from tsunagaru.radius import Code, Packet, Secrets, default_dictionary, encode, sign_reply


def decode(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, object], str]:
    rc = main(["radius", "decode", *args])
    out, err = capsys.readouterr()
    return rc, (json.loads(out) if rc == 0 else {}), err


def attrs(doc: dict[str, object]) -> dict[str, object]:
    return {a["name"]: a["value"] for a in doc["attributes"]}  # type: ignore[attr-defined,index]


def test_decode_reveals_password_only_with_the_secret(capsys: pytest.CaptureFixture[str]) -> None:
    rc, doc, _ = decode(capsys, ACCESS_REQUEST_7_1.hex(" "))
    assert rc == 0 and doc["code"] == "Access-Request" and doc["identifier"] == 0
    assert attrs(doc)["User-Password"] != "arctangent"
    rc, doc, _ = decode(capsys, ACCESS_REQUEST_7_1.hex(), "--secret", "xyzzy5461")
    assert attrs(doc) == {"User-Name": "nemo", "User-Password": "arctangent",
                          "NAS-IP-Address": "192.168.1.16", "NAS-Port": 3}
    assert doc["message_authenticator"] == "absent"


def test_decode_reply_checks_authenticators(capsys: pytest.CaptureFixture[str]) -> None:
    req_auth = ACCESS_REQUEST_7_1[4:20].hex()
    accept = ACCESS_ACCEPT_7_1.hex()
    rc, doc, _ = decode(capsys, accept, "--secret", "xyzzy5461", "--request-authenticator", req_auth)
    assert rc == 0 and doc["response_authenticator"] == "valid"
    rc, doc, _ = decode(capsys, accept, "--secret", "wrong", "--request-authenticator", req_auth)
    assert doc["response_authenticator"] == "invalid"


def test_decode_mppe_key_and_message_authenticator(capsys: pytest.CaptureFixture[str]) -> None:
    d, auth = default_dictionary(), bytes(range(16))
    key = bytes(32)
    reply = sign_reply(Packet(Code.ACCESS_ACCEPT, 1, attributes=tuple(
        encode(d, "MS-MPPE-Recv-Key", key, secrets=Secrets(b"s", auth))
        + encode(d, "EAP-Message", b"\x03\x01\x00\x04"))), auth, b"s")
    rc, doc, _ = decode(capsys, reply.to_bytes().hex(), "--secret", "s",
                        "--request-authenticator", auth.hex())
    assert rc == 0
    assert doc["message_authenticator"] == "valid"
    assert attrs(doc)["MS-MPPE-Recv-Key"] == "0x" + key.hex()
    assert attrs(doc)["EAP-Message"] == "0x03010004"


@pytest.mark.parametrize("bad", ["zz", "0100", "01000019" + "00" * 16 + "0100", "01000400" + "00" * 16])
def test_malformed_input_gives_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], bad: str) -> None:
    rc, _, err = decode(capsys, bad)
    assert rc == 2 and err.count("\n") == 1 and err.startswith("error: ")
