"""User-Password, salt encryption (RFC 2548 / 2868) and Message-Authenticator (RFC 3579) vectors.

Each is checked three ways: against the RFC formula written out step by step here, against pyrad (an
independent implementation), and by round trip.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest

from tsunagaru.radius import (
    AuthenticatorMismatch,
    Code,
    MalformedPacket,
    Packet,
    Secrets,
    decode_packet,
    default_dictionary,
    encode,
    hiding,
    sign_reply,
    sign_request,
    verify_reply,
    verify_request,
)

SECRET = b"testing123"
AUTH = bytes.fromhex("0f403f9473978057bd83d5cb98f4227a")
KEY32 = bytes(range(32))  # an MPPE key of 32 octets, as EAP-TLS gives


def test_salt_encrypt_matches_the_rfc_2548_formula() -> None:
    # RFC 2548 2.4.2: P = len || key || pad to 16; b(1) = MD5(S + R + A), c(1) = p(1) xor b(1),
    # b(i) = MD5(S + c(i-1)), c(i) = p(i) xor b(i); the attribute value is A || c(1) || c(2) ...
    salt = bytes((0x80 | 0x12, 0x34))
    plain = bytes((32,)) + KEY32 + b"\0" * 15
    out, prev = b"", AUTH + salt
    for i in range(0, len(plain), 16):
        pad = hashlib.md5(SECRET + prev).digest()
        block = bytes(p ^ b for p, b in zip(plain[i:i + 16], pad, strict=True))
        out, prev = out + block, block
    expected = salt + out
    assert hiding.salt_encrypt(KEY32, SECRET, AUTH, salt=salt) == expected
    assert len(expected) == 2 + 48
    assert hiding.salt_decrypt(expected, SECRET, AUTH) == KEY32


def test_salt_against_pyrad_both_ways() -> None:
    pyrad_packet = pytest.importorskip("pyrad.packet")
    p = pyrad_packet.AuthPacket(code=2, secret=SECRET, authenticator=AUTH)
    p.request_authenticator = AUTH
    theirs = p.SaltCrypt(KEY32)
    assert hiding.salt_decrypt(theirs, SECRET, AUTH) == KEY32
    ours = hiding.salt_encrypt(KEY32, SECRET, AUTH)
    assert p.SaltDecrypt(ours) == KEY32


def test_user_password_against_pyrad_and_rfc_2865_vector() -> None:
    pyrad_packet = pytest.importorskip("pyrad.packet")
    p = pyrad_packet.AuthPacket(secret=b"xyzzy5461", authenticator=AUTH)
    hidden = hiding.hide_user_password(b"arctangent", b"xyzzy5461", AUTH)
    assert hidden == bytes.fromhex("0dbe708d93d413ce3196e43f782a0aee")  # RFC 2865 7.1
    assert p.PwDecrypt(hidden) == "arctangent"
    long_pw = b"p" * 128
    assert hiding.reveal_user_password(p.PwCrypt(long_pw), b"xyzzy5461", AUTH) == long_pw
    with pytest.raises(ValueError):
        hiding.hide_user_password(b"p" * 129, b"xyzzy5461", AUTH)


def test_tunnel_password_and_mppe_through_the_dictionary_and_recrypt() -> None:
    d = default_dictionary()
    hop1, hop2 = Secrets(SECRET, AUTH), Secrets(b"next-hop", bytes(range(16)))
    attrs = encode(d, "MS-MPPE-Recv-Key", KEY32, secrets=hop1) + encode(d, "Tunnel-Password", "vlan-pw",
                                                                      tag=1, secrets=hop1)
    got = {a.name: (a.value, a.tag) for a in decode_packet(Packet(2, 1, attributes=tuple(attrs)), d, hop1)}
    assert got == {"MS-MPPE-Recv-Key": (KEY32, None), "Tunnel-Password": ("vlan-pw", 1)}
    # A proxy re-encrypts the key for the next hop (RFC 2548: salt-encrypted per hop).
    vsa = attrs[0][1]
    inner = vsa[6:]
    moved = hiding.recrypt(inner, SECRET, AUTH, hop2.secret, hop2.request_authenticator)
    assert hiding.salt_decrypt(moved, hop2.secret, hop2.request_authenticator) == KEY32
    tp = attrs[1][1]
    moved_tp = hiding.recrypt(tp, SECRET, AUTH, hop2.secret, hop2.request_authenticator, tagged=True)
    assert moved_tp[0] == 1
    assert hiding.salt_decrypt(moved_tp[1:], hop2.secret, hop2.request_authenticator) == b"vlan-pw"


def test_salt_decrypt_rejects_bad_lengths() -> None:
    for bad in (b"", b"\x80\x00" + b"x" * 15, b"\x00\x00" + b"x" * 16):
        with pytest.raises(MalformedPacket):
            hiding.salt_decrypt(bad, SECRET, AUTH)


def test_message_authenticator_rfc_3579_formula_and_first() -> None:
    attrs = ((1, b"fred"), (79, b"\x02\x00\x00\x09\x01fred"))
    req = sign_request(Packet(Code.ACCESS_REQUEST, 5, AUTH, attrs), SECRET)
    wire = req.to_bytes()
    assert req.attributes[0][0] == 80 and wire[20:22] == b"\x50\x12"
    # RFC 3579 3.2: HMAC-MD5 over the packet with the Message-Authenticator value zeroed.
    zeroed = wire[:22] + bytes(16) + wire[38:]
    assert hmac.new(SECRET, zeroed, hashlib.md5).digest() == wire[22:38]
    assert verify_request(Packet.from_bytes(wire), SECRET, require_message_authenticator=True)
    tampered = wire[:-1] + bytes((wire[-1] ^ 1,))
    with pytest.raises(AuthenticatorMismatch):
        verify_request(Packet.from_bytes(tampered), SECRET, require_message_authenticator=True)


def test_message_authenticator_against_pyrad() -> None:
    pyrad_packet = pytest.importorskip("pyrad.packet")
    ours = sign_request(Packet(Code.ACCESS_REQUEST, 9, AUTH, ((1, b"alice"),)), SECRET).to_bytes()
    theirs = pyrad_packet.AuthPacket(packet=ours, secret=SECRET, dict=None)
    assert theirs.verify_message_authenticator()
    reply = sign_reply(Packet(Code.ACCESS_ACCEPT, 9), AUTH, SECRET)
    p = pyrad_packet.AuthPacket(packet=reply.to_bytes(), secret=SECRET, dict=None)
    assert p.verify_message_authenticator(original_authenticator=AUTH, original_code=1)
    assert verify_reply(Packet.from_bytes(reply.to_bytes()), AUTH, SECRET, require_message_authenticator=True)


def test_accounting_request_authenticator_rfc_2866() -> None:
    req = sign_request(Packet(Code.ACCOUNTING_REQUEST, 3, attributes=((40, b"\0\0\0\1"),)), SECRET,
                       add_message_authenticator=False)
    wire = req.to_bytes()
    assert req.authenticator == hashlib.md5(wire[:4] + bytes(16) + wire[20:] + SECRET).digest()
    assert verify_request(Packet.from_bytes(wire), SECRET, require_message_authenticator=False) is False
    with pytest.raises(AuthenticatorMismatch):
        verify_request(Packet.from_bytes(wire), b"wrong", require_message_authenticator=False)


def test_message_authenticator_required_when_asked() -> None:
    req = sign_request(Packet(Code.ACCESS_REQUEST, 1, AUTH), SECRET, add_message_authenticator=False)
    with pytest.raises(AuthenticatorMismatch):
        verify_request(req, SECRET, require_message_authenticator=True)


@pytest.mark.parametrize(("request_code", "reply_code"), [
    (Code.COA_REQUEST, Code.COA_ACK), (Code.DISCONNECT_REQUEST, Code.DISCONNECT_NAK),
    (Code.STATUS_SERVER, Code.ACCESS_ACCEPT), (Code.ACCOUNTING_REQUEST, Code.ACCOUNTING_RESPONSE),
])
def test_rfc_5176_and_5997_exchanges_sign_and_verify(request_code: int, reply_code: int) -> None:
    signed = sign_request(Packet(request_code, 4, attributes=((44, b"sess"),)), SECRET)
    req = Packet.from_bytes(signed.to_bytes())
    assert verify_request(req, SECRET, require_message_authenticator=True)
    reply = Packet.from_bytes(sign_reply(Packet(reply_code, 4), req.authenticator, SECRET).to_bytes())
    assert verify_reply(reply, req.authenticator, SECRET, require_message_authenticator=True)


def test_code_names() -> None:
    from tsunagaru.radius import code_name

    assert [code_name(c) for c in (1, 4, 12, 41, 43, 45, 99)] == [
        "Access-Request", "Accounting-Request", "Status-Server", "Disconnect-ACK", "CoA-Request", "CoA-NAK",
        "Code-99"]
