"""What the IdP is configured with, as plain frozen dataclasses (no I/O, no asyncio, no SQLAlchemy):
:mod:`tsunagaru.idp.config` builds them from TOML without importing the service that uses them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from tsunagaru.eap.packet import EapType
from tsunagaru.eap.tls_config import DEFAULT_FRAGMENT

DEFAULT_METHODS = (EapType.TTLS, EapType.PEAP, EapType.TLS)
MAX_CACHE_TTL = timedelta(seconds=60)
DEFAULT_CACHE_TTL = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class IdpSettings:
    eap_certificate: Path
    eap_key: Path
    user_ca: Path | None  # trusted for EAP-TLS client certificates
    cui_key: bytes
    wbaid: str | None = None
    session_timeout: int = 86400
    methods: tuple[int, ...] = DEFAULT_METHODS
    fragment_size: int = DEFAULT_FRAGMENT
    tls13_tunnels: bool = False
    max_sessions: int = 10000
    realms: tuple[str, ...] = ()  # lower case; empty: any realm (a lab IdP)
    eap_tls13: bool = True  # EAP-TLS may use TLS 1.3 (RFC 9190); off caps every method at TLS 1.2
    node_id: str | None = None  # named in State (tsunagaru.radius.node_state) when several nodes serve a realm


@dataclass(frozen=True, slots=True)
class RadSecListen:
    host: str
    port: int
    certificate: Path
    key: Path
    roots: tuple[Path, ...]
    crls: tuple[Path, ...] = ()


@dataclass(frozen=True, slots=True)
class UdpListen:
    host: str
    port: int
    secret: bytes
    allowed: str = "127.0.0.0/8"
