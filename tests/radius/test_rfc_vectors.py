"""RFC 2865 section 7 example packets, as annotated hex, decoded and re-encoded both ways."""

from __future__ import annotations

import ipaddress

from tsunagaru.radius import (
    Packet,
    Secrets,
    decode_packet,
    default_dictionary,
    encode,
    sign_reply,
    verify_reply,
)
from tsunagaru.radius.auth import packet_authenticator


def hexbytes(annotated: str) -> bytes:
    """Hex with ``#`` comments to the end of each line."""
    return bytes.fromhex("".join(line.split("#", 1)[0] for line in annotated.splitlines()))


SECRET = b"xyzzy5461"

# 7.1 User Telnet to Specified Host: nemo / arctangent from NAS 192.168.1.16 port 3.
ACCESS_REQUEST_7_1 = hexbytes("""
01 00 00 38                                       # Access-Request, id 0, length 56
0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a   # Request Authenticator
01 06 6e 65 6d 6f                                 # User-Name "nemo"
02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a   # User-Password, hidden ...
      0a ee                                       #   ... 16 octets
04 06 c0 a8 01 10                                 # NAS-IP-Address 192.168.1.16
05 06 00 00 00 03                                 # NAS-Port 3
""")
ACCESS_ACCEPT_7_1 = hexbytes("""
02 00 00 26                                       # Access-Accept, id 0, length 38
86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2   # Response Authenticator
06 06 00 00 00 01                                 # Service-Type Login-User
0f 06 00 00 00 00                                 # Login-Service Telnet
0e 06 c0 a8 01 03                                 # Login-IP-Host 192.168.1.3
""")
# 7.2 Framed User Authenticating with CHAP: flopsy, CHAP id 22.
ACCESS_REQUEST_7_2 = hexbytes("""
01 01 00 47                                       # Access-Request, id 1, length 71
2a ee 86 f0 8d 0d 55 96 9c a5 97 8e 0d 33 67 a2   # Request Authenticator (the CHAP challenge)
01 08 66 6c 6f 70 73 79                           # User-Name "flopsy"
03 13 16 e9 75 57 c3 16 18 58 95 f2 93 ff 63 44   # CHAP-Password: CHAP id 22, response ...
      07 72 75                                    #   ... 16 octets
04 06 c0 a8 01 10                                 # NAS-IP-Address 192.168.1.16
05 06 00 00 00 14                                 # NAS-Port 20
06 06 00 00 00 02                                 # Service-Type Framed-User
07 06 00 00 00 01                                 # Framed-Protocol PPP
""")
# 7.3 an Access-Challenge with a Reply-Message and State.
ACCESS_CHALLENGE_7_3 = hexbytes("""
0b 02 00 4e                                       # Access-Challenge, id 2, length 78
36 f3 c8 76 4a e8 c7 11 57 40 3c 0c 71 ff 9c 45   # Response Authenticator
12 30 43 68 61 6c 6c 65 6e 67 65 20 33 32 37 36   # Reply-Message "Challenge 32769430.  Enter
      39 34 33 30 2e 20 20 45 6e 74 65 72 20 72   #   response at prompt."
      65 73 70 6f 6e 73 65 20 61 74 20 70 72 6f
      6d 70 74 2e
18 0a 33 32 37 36 39 34 33 30                     # State "32769430"
""")


def values(packet: Packet, secrets: Secrets | None = None) -> dict[str, object]:
    return {a.name: a.value for a in decode_packet(packet, default_dictionary(), secrets)}


def test_7_1_request_decodes_and_reencodes() -> None:
    req = Packet.from_bytes(ACCESS_REQUEST_7_1)
    assert (req.code, req.identifier) == (1, 0)
    assert req.to_bytes() == ACCESS_REQUEST_7_1
    rebuilt = Packet(req.code, req.identifier, req.authenticator, req.attributes)
    assert rebuilt.to_bytes() == ACCESS_REQUEST_7_1
    v = values(req, Secrets(SECRET, req.authenticator))
    assert v == {"User-Name": "nemo", "User-Password": "arctangent",
                 "NAS-IP-Address": ipaddress.IPv4Address("192.168.1.16"), "NAS-Port": 3}


def test_7_1_request_built_by_name_matches_the_rfc_octets() -> None:
    d = default_dictionary()
    auth = ACCESS_REQUEST_7_1[4:20]
    attrs = [*encode(d, "User-Name", "nemo"),
             *encode(d, "User-Password", "arctangent", secrets=Secrets(SECRET, auth)),
             *encode(d, "NAS-IP-Address", "192.168.1.16"), *encode(d, "NAS-Port", 3)]
    assert Packet(1, 0, auth, tuple(attrs)).to_bytes() == ACCESS_REQUEST_7_1


def test_7_1_accept_response_authenticator() -> None:
    req = Packet.from_bytes(ACCESS_REQUEST_7_1)
    accept = Packet.from_bytes(ACCESS_ACCEPT_7_1)
    assert accept.to_bytes() == ACCESS_ACCEPT_7_1
    assert values(accept) == {"Service-Type": "Login-User", "Login-Service": 0,
                              "Login-IP-Host": ipaddress.IPv4Address("192.168.1.3")}
    assert verify_reply(accept, req.authenticator, SECRET, require_message_authenticator=False) is False
    assert packet_authenticator(accept, SECRET, req.authenticator) == accept.authenticator
    built = sign_reply(Packet(2, 0, attributes=accept.attributes), req.authenticator, SECRET,
                       add_message_authenticator=False)
    assert built.to_bytes() == ACCESS_ACCEPT_7_1


def test_7_2_chap_request() -> None:
    req = Packet.from_bytes(ACCESS_REQUEST_7_2)
    assert req.to_bytes() == ACCESS_REQUEST_7_2
    v = values(req)
    assert v["User-Name"] == "flopsy"
    assert v["CHAP-Password"][0] == 22 and len(v["CHAP-Password"]) == 17  # type: ignore[index,arg-type]
    assert (v["NAS-Port"], v["Service-Type"], v["Framed-Protocol"]) == (20, "Framed-User", "PPP")


def test_7_3_challenge() -> None:
    ch = Packet.from_bytes(ACCESS_CHALLENGE_7_3)
    assert ch.to_bytes() == ACCESS_CHALLENGE_7_3
    assert values(ch) == {"Reply-Message": "Challenge 32769430.  Enter response at prompt.",
                          "State": b"32769430"}


def test_padding_after_length_is_ignored_and_not_reencoded() -> None:
    pkt = Packet.from_bytes(ACCESS_REQUEST_7_1 + b"\0" * 10)
    assert pkt.to_bytes() == ACCESS_REQUEST_7_1
