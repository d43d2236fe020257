"""RFC 2759 section 9.2 and RFC 3079 section 3.5.3 vectors."""

from __future__ import annotations

from tsunagaru.eap import mschapv2_crypto as mc

USER = b"User"
PASSWORD = "clientPass"
AUTH_CHALLENGE = bytes.fromhex("5B5D7C7D7B3F2F3E3C2C602132262628")
PEER_CHALLENGE = bytes.fromhex("21402324255E262A28295F2B3A337C7E")
CHALLENGE = bytes.fromhex("D02E4386BCE91226")
PASSWORD_HASH = bytes.fromhex("44EBBA8D5312B8D611474411F56989AE")
NT_RESPONSE = bytes.fromhex("82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF")
PASSWORD_HASH_HASH = bytes.fromhex("41C00C584BD2D91C4017A2A12FA59F3F")
AUTH_RESPONSE = b"S=407A5589115FD0D6209F510FE9C04566932CDA56"
MASTER_KEY = bytes.fromhex("FDECE3717A8C838CB388E527AE3CDD31")
SEND_START_KEY_128 = bytes.fromhex("8B7CDC149B993A1BA118CB153F56DCCB")


def test_md4_known_answers() -> None:  # RFC 1320 A.5
    assert mc.md4(b"").hex() == "31d6cfe0d16ae931b73c59d7e0c089c0"
    assert mc.md4(b"abc").hex() == "a448017aaf21d8525fc10ae87aa6729d"
    assert mc.md4(b"1234567890" * 8).hex() == "e33b4ddc9c38f2199c3e7b164fcc0536"


def test_rfc2759_vectors() -> None:
    assert mc.nt_password_hash(PASSWORD) == PASSWORD_HASH
    assert mc.md4(PASSWORD_HASH) == PASSWORD_HASH_HASH
    assert mc.challenge_hash(PEER_CHALLENGE, AUTH_CHALLENGE, USER) == CHALLENGE
    assert mc.generate_nt_response(AUTH_CHALLENGE, PEER_CHALLENGE, USER, PASSWORD_HASH) == NT_RESPONSE
    got = mc.generate_authenticator_response(PASSWORD_HASH, NT_RESPONSE, PEER_CHALLENGE, AUTH_CHALLENGE, USER)
    assert got == AUTH_RESPONSE


def test_rfc3079_vectors() -> None:
    master = mc.master_key(PASSWORD_HASH, NT_RESPONSE)
    assert master == MASTER_KEY
    assert mc.asymmetric_start_key(master, 16, is_send=True, is_server=True) == SEND_START_KEY_128
    # the server's send key is the client's receive key
    assert mc.asymmetric_start_key(master, 16, is_send=False, is_server=False) == SEND_START_KEY_128
