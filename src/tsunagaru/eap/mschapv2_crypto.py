"""MS-CHAPv2 (RFC 2759) and MPPE key derivation (RFC 3079), pure functions.

MD4 comes from :mod:`tsunagaru.eap.md4` (OpenSSL 3 hides it); it is used only as the protocol
demands (NT hash), never as a general hash. DES comes from ``cryptography``'s decrepit set.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from tsunagaru.eap.md4 import md4

MAGIC1 = b"Magic server to client signing constant"
MAGIC2 = b"Pad to make it do more than one iteration"
MPPE_MASTER_MAGIC = b"This is the MPPE Master Key"
MPPE_CLIENT_SEND = b"On the client side, this is the send key; on the server side, it is the receive key."
MPPE_CLIENT_RECV = b"On the client side, this is the receive key; on the server side, it is the send key."
SHS_PAD1 = b"\x00" * 40
SHS_PAD2 = b"\xf2" * 40


def nt_password_hash(password: str) -> bytes:
    return md4(password.encode("utf-16-le"))


def challenge_hash(peer_challenge: bytes, authenticator_challenge: bytes, username: bytes) -> bytes:
    return hashlib.sha1(peer_challenge + authenticator_challenge + username).digest()[:8]


def _des_key(seven: bytes) -> bytes:
    """Spread 56 key bits over 8 octets (the parity bits are ignored by DES)."""
    bits = int.from_bytes(seven, "big")
    return bytes(((bits >> (49 - 7 * i)) & 0x7F) << 1 for i in range(8))


def _des(key7: bytes, block: bytes) -> bytes:
    encryptor = Cipher(TripleDES(_des_key(key7) * 3), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def challenge_response(challenge: bytes, password_hash: bytes) -> bytes:
    z = password_hash + b"\x00" * 5
    return b"".join(_des(z[i : i + 7], challenge) for i in (0, 7, 14))


def generate_nt_response(
    authenticator_challenge: bytes, peer_challenge: bytes, username: bytes, password_hash: bytes
) -> bytes:
    return challenge_response(
        challenge_hash(peer_challenge, authenticator_challenge, username), password_hash
    )


@lru_cache(maxsize=4096)
def password_hash_hash(password_hash: bytes) -> bytes:
    """HashNtPasswordHash (RFC 2759 8.4). Asked twice per login (authenticator response, MPPE master
    key) and MD4 is pure Python here (~30 us): cached per NT hash, bounded. It holds nothing the
    credential store's cache does not already hold in a stronger form (the NT hash itself)."""
    return md4(password_hash)


def generate_authenticator_response(
    password_hash: bytes,
    nt_response: bytes,
    peer_challenge: bytes,
    authenticator_challenge: bytes,
    username: bytes,
) -> bytes:
    """The 42-octet ``S=<40 hex digits>`` string the server proves itself with."""
    digest = hashlib.sha1(password_hash_hash(password_hash) + nt_response + MAGIC1).digest()
    challenge = challenge_hash(peer_challenge, authenticator_challenge, username)
    digest = hashlib.sha1(digest + challenge + MAGIC2).digest()
    return b"S=" + digest.hex().upper().encode()


def master_key(password_hash: bytes, nt_response: bytes) -> bytes:
    """RFC 3079 GetMasterKey."""
    return hashlib.sha1(password_hash_hash(password_hash) + nt_response + MPPE_MASTER_MAGIC).digest()[:16]


def asymmetric_start_key(master: bytes, length: int, *, is_send: bool, is_server: bool) -> bytes:
    """RFC 3079 GetAsymmetricStartKey."""
    magic = MPPE_CLIENT_RECV if is_send == is_server else MPPE_CLIENT_SEND
    return hashlib.sha1(master + SHS_PAD1 + magic + SHS_PAD2).digest()[:length]
