"""The registry of RADIUS clients (access points, controllers): source address or CIDR -> secret.

Most specific network wins. Each client carries its BlastRADIUS policy: Message-Authenticator is
required unless an operator turned it off for that client, which the loader logs as a warning.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Client:
    name: str
    network: Network
    secret: bytes = field(repr=False)
    require_message_authenticator: bool = True
    nas_identifier: re.Pattern[str] | None = None
    rate_per_second: float = 200.0
    burst: int = 400
    site: str | None = None  # the site registry key (location, venue) once sites exist
    # RFC 5580 location of the site these APs serve, pre-encoded (4.2 Location-Information, 4.3 Location-Data)
    location: tuple[bytes, bytes | None] | None = None
    certificate_name: str | None = None  # RadSec APs: a SAN dNSName (``*.`` allowed) that identifies them
    # disaster mode: the end (epoch seconds, UTC) of the active incident these APs are in; until then the
    # disaster credential (``anp.disaster_realms``) is accepted from them, never otherwise
    disaster_until: float | None = None
    # the incident's policy while disaster_until is ahead: an Access-Accept's Session-Timeout of at least
    # this many seconds (tsunagaru.anp.disaster); None: the IdP's Session-Timeout as it is
    disaster_session_timeout: int | None = None


CACHE_SIZE = 4096


@dataclass(slots=True)
class ClientRegistry:
    clients: list[Client] = field(default_factory=list)
    # address text -> client: parsing the address and walking the networks on every datagram is a
    # visible cost under load; the registry is immutable (a reload builds a new one), so this is safe
    _cache: dict[str, Client | None] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.clients.sort(key=lambda c: c.network.prefixlen, reverse=True)

    @classmethod
    def of(cls, clients: Iterable[Client]) -> ClientRegistry:
        return cls(list(clients))

    def find(self, address: str) -> Client | None:
        """The most specific client whose network holds ``address``, or None (unknown: drop)."""
        try:
            return self._cache[address]
        except KeyError:
            pass
        if len(self._cache) >= CACHE_SIZE:  # bounded: a flood from many sources cannot grow it
            self._cache.clear()
        found = self._cache[address] = self._lookup(address)
        return found

    def _lookup(self, address: str) -> Client | None:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        for client in self.clients:
            if ip.version == client.network.version and ip in client.network:
                return client
        return None
