"""NAI Realm ANQP entries in hostapd's syntax: ``nai_realm=<encoding>,<realm>[;<realm>],<EAP>[<id>:<val>]...``.

A phone that matches on realm (rather than RCOI) joins only when the realm is listed with an EAP method
its credential supports, with the right auth parameters: EAP-TLS ``13[5:6]`` (credential: certificate),
EAP-TTLS ``21[2:4][5:7]`` (non-EAP inner MSCHAPv2, username/password) or ``21[2:1][5:7]`` (PAP), PEAP
``25[3:26][5:7]`` (inner EAP-MSCHAPv2). Auth parameter ids and values are IEEE 802.11 Table 9-336/337;
the limits are hostapd 2.10's (``MAX_NAI_REALMS`` 10, ``MAX_NAI_EAP_METHODS`` 5, ``MAX_NAI_AUTH_TYPES`` 4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

MAX_REALMS, MAX_METHODS, MAX_PARAMS = 10, 5, 4
_METHOD = re.compile(r"^(\d{1,3})((?:\[\d{1,3}:\d{1,3}\])*)$")
_PARAM = re.compile(r"\[(\d{1,3}):(\d{1,3})\]")
_REALM = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")


class NaiRealmError(ValueError):
    pass


class Eap(IntEnum):
    TLS = 13
    SIM = 18
    TTLS = 21
    AKA = 23
    PEAP = 25
    MSCHAPV2 = 26
    AKA_PRIME = 50


class AuthParam(IntEnum):
    EXPANDED_EAP = 1
    NON_EAP_INNER = 2
    INNER_EAP = 3
    EXPANDED_INNER_EAP = 4
    CREDENTIAL = 5
    TUNNELED_CREDENTIAL = 6


class NonEapInner(IntEnum):
    PAP = 1
    CHAP = 2
    MSCHAP = 3
    MSCHAPV2 = 4


class Credential(IntEnum):
    SIM = 1
    USIM = 2
    NFC = 3
    HARDWARE_TOKEN = 4
    SOFTOKEN = 5
    CERTIFICATE = 6
    USERNAME_PASSWORD = 7
    ANONYMOUS = 9
    VENDOR = 10


@dataclass(frozen=True, slots=True)
class EapOffer:
    method: int
    params: tuple[tuple[int, int], ...] = ()

    def hostapd(self) -> str:
        return f"{self.method}" + "".join(f"[{i}:{v}]" for i, v in self.params)

    def param(self, ident: int) -> int | None:
        return next((v for i, v in self.params if i == ident), None)


#: The method names an AP description uses -> what hostapd advertises for them.
METHODS: dict[str, EapOffer] = {
    "tls": EapOffer(Eap.TLS, ((AuthParam.CREDENTIAL, Credential.CERTIFICATE),)),
    "ttls-pap": EapOffer(Eap.TTLS, ((AuthParam.NON_EAP_INNER, NonEapInner.PAP),
                                    (AuthParam.CREDENTIAL, Credential.USERNAME_PASSWORD))),
    "ttls-mschapv2": EapOffer(Eap.TTLS, ((AuthParam.NON_EAP_INNER, NonEapInner.MSCHAPV2),
                                         (AuthParam.CREDENTIAL, Credential.USERNAME_PASSWORD))),
    "peap-mschapv2": EapOffer(Eap.PEAP, ((AuthParam.INNER_EAP, Eap.MSCHAPV2),
                                         (AuthParam.CREDENTIAL, Credential.USERNAME_PASSWORD))),
}


@dataclass(frozen=True, slots=True)
class NaiRealm:
    realms: tuple[str, ...]
    methods: tuple[EapOffer, ...]
    encoding: int = 0  # 0 = RFC 4282 realm, 1 = UTF-8 string

    def __post_init__(self) -> None:
        if not 1 <= len(self.realms) <= MAX_REALMS:
            raise NaiRealmError(f"1 to {MAX_REALMS} realms per entry, not {len(self.realms)}")
        for realm in self.realms:
            if self.encoding == 0 and not _REALM.match(realm):
                raise NaiRealmError(f"realm {realm!r} is not an RFC 4282 realm")
        if len(self.methods) > MAX_METHODS:
            raise NaiRealmError(f"at most {MAX_METHODS} EAP methods per realm")
        if any(len(m.params) > MAX_PARAMS for m in self.methods):
            raise NaiRealmError(f"at most {MAX_PARAMS} auth parameters per EAP method")

    def hostapd(self) -> str:
        return ",".join((str(self.encoding), ";".join(self.realms), *(m.hostapd() for m in self.methods)))


def offered(names: tuple[str, ...]) -> tuple[EapOffer, ...]:
    """Method names (``tls``, ``ttls-mschapv2`` ...) -> offers; an unknown name is an error naming it."""
    unknown = [n for n in names if n not in METHODS]
    if unknown:
        raise NaiRealmError(f"unknown EAP method {unknown[0]!r} (known: {', '.join(METHODS)})")
    return tuple(METHODS[n] for n in names)


def parse_nai_realm(value: str) -> NaiRealm:
    """hostapd's ``nai_realm`` value -> the entry; malformed syntax is a :class:`NaiRealmError`."""
    parts = value.split(",")
    if len(parts) < 2 or parts[0] not in ("0", "1"):
        raise NaiRealmError("expected <encoding 0|1>,<realm>[;<realm>][,<EAP method>...]")
    methods = []
    for text in parts[2:]:
        match = _METHOD.match(text.strip())
        if not match:
            raise NaiRealmError(f"EAP method {text!r} is not <type>[<id>:<value>]...")
        params = tuple((int(i), int(v)) for i, v in _PARAM.findall(match.group(2)))
        if int(match.group(1)) > 255 or any(i > 255 or v > 255 for i, v in params):
            raise NaiRealmError(f"EAP method {text!r}: numbers must be 0-255")
        methods.append(EapOffer(int(match.group(1)), params))
    return NaiRealm(tuple(r.strip() for r in parts[1].split(";")), tuple(methods), int(parts[0]))


def method_problems(offer: EapOffer) -> list[str]:
    """Why a phone would not match this method: the auth parameters its credential type needs."""
    problems: list[str] = []
    cred = offer.param(AuthParam.CREDENTIAL)
    if offer.method == Eap.TLS:
        if cred != Credential.CERTIFICATE:
            problems.append("EAP-TLS (13) needs credential type certificate [5:6]")
        if offer.param(AuthParam.NON_EAP_INNER) is not None or offer.param(AuthParam.INNER_EAP) is not None:
            problems.append("EAP-TLS (13) has no inner method")
    elif offer.method in (Eap.TTLS, Eap.PEAP):
        name = "EAP-TTLS (21)" if offer.method == Eap.TTLS else "PEAP (25)"
        inner = offer.param(AuthParam.NON_EAP_INNER) if offer.method == Eap.TTLS else None
        inner_eap = offer.param(AuthParam.INNER_EAP)
        if inner is None and inner_eap is None:
            problems.append(f"{name} needs its inner method ([2:N] non-EAP or [3:N] EAP)")
        if inner is not None and inner not in tuple(NonEapInner):
            problems.append(f"{name}: non-EAP inner type {inner} is not PAP/CHAP/MSCHAP/MSCHAPv2 (1-4)")
        if offer.method == Eap.PEAP and offer.param(AuthParam.NON_EAP_INNER) is not None:
            problems.append("PEAP (25) carries an EAP inner method [3:N], not a non-EAP one [2:N]")
        if cred not in (Credential.USERNAME_PASSWORD, Credential.CERTIFICATE):
            problems.append(f"{name} needs a credential type ([5:7] username/password)")
    return problems
