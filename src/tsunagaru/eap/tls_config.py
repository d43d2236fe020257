"""TLS settings for the tunnel methods (EAP-TLS, TTLS, PEAP): pure data, loaded by the TLS engine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: hostapd's EAP server default: a P-256 server flight (~1.3 kB) in one packet, where 1024 (FreeRADIUS's
#: default) takes two and so one more RADIUS round trip per login. A NAS's Framed-MTU lowers it per
#: conversation; a NAS that cannot take ~1.5 kB RADIUS packets and sends none needs fragment_size = 1024.
DEFAULT_FRAGMENT = 1398


@dataclass(frozen=True, slots=True)
class TlsServerConfig:
    """The server's certificate and the limits of the EAP-TLS framing.

    ``client_ca_file`` is the CA bundle client certificates must chain to (EAP-TLS only).
    ``fragment_size`` bounds the TLS data per EAP packet (RADIUS carries ~4 KiB); the NAS's Framed-MTU
    may lower it per conversation (:func:`tsunagaru.eap.tls_engine.fragment_size`).
    ``max_message`` caps reassembly of one TLS message from the peer.
    ``tls13_tunnels`` allows TLS 1.3 for TTLS and PEAP too (RFC 9427); EAP-TLS always may use it.
    """

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None
    fragment_size: int = DEFAULT_FRAGMENT
    max_message: int = 64 * 1024
    allow_tls13: bool = True
    tls13_tunnels: bool = False
    resumption: bool = False

    def __post_init__(self) -> None:
        if not 64 <= self.fragment_size <= 16384:
            raise ValueError("fragment_size must be 64..16384")
        if not 1024 <= self.max_message <= 1 << 20:
            raise ValueError("max_message must be 1 KiB..1 MiB")
