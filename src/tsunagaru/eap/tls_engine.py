"""The one TLS engine shared by EAP-TLS, TTLS and PEAP: EAP-TLS framing and a memory-BIO tunnel.

Written once, like hostapd's ``eap_server_tls_common.c``:

* :class:`TlsFrame` is the Type-Data of an EAP-TLS/TTLS/PEAP packet (RFC 5216 3.1): a flags octet
  (L length included, M more fragments, S start; the low 3 bits carry the TTLS/PEAP version), an
  optional 4-octet TLS Message Length, then TLS data.
* :class:`Reassembler` joins the peer's fragments with a size cap; :class:`Fragmenter` cuts ours.
* :class:`TlsTunnel` is a pyOpenSSL server connection over memory BIOs: bytes in, bytes out, no socket.
  Key material comes from the RFC 5705 exporter, which for TLS 1.2 with no context equals the
  RFC 5216 PRF(master secret, label, client.random || server.random).
"""

from __future__ import annotations

import struct
import weakref
from dataclasses import dataclass
from functools import lru_cache

from cryptography import x509
from OpenSSL import SSL, crypto

from tsunagaru.eap.packet import MalformedEap
from tsunagaru.eap.tls_config import TlsServerConfig

FLAG_L = 0x80
FLAG_M = 0x40
FLAG_S = 0x20
VERSION_MASK = 0x07
_READ_CHUNK = 16384
_OUTPUT_CHUNK = 65536
_U32 = struct.Struct("!I")


class TlsFailure(Exception):
    """The TLS handshake or a record failed; an alert may be waiting in the tunnel's output."""


@dataclass(frozen=True, slots=True)
class TlsFrame:
    flags: int
    data: bytes = b""
    length: int | None = None  # TLS Message Length, present when FLAG_L is set

    @classmethod
    def from_bytes(cls, type_data: bytes) -> TlsFrame:
        if not type_data:
            raise MalformedEap("EAP-TLS flags needs 1 octets, 0 remain")
        flags = type_data[0]
        if not flags & FLAG_L:
            return cls(flags, type_data[1:])
        if len(type_data) < 5:
            raise MalformedEap(f"TLS Message Length needs 4 octets, {len(type_data) - 1} remain")
        return cls(flags, type_data[5:], _U32.unpack_from(type_data, 1)[0])

    def to_bytes(self) -> bytes:
        return frame_bytes(self.flags, self.data, self.length)

    @property
    def version(self) -> int:
        return self.flags & VERSION_MASK

    def is_ack(self) -> bool:
        """An empty frame: the peer acknowledges a fragment (or our final flight)."""
        return not self.data and not self.flags & (FLAG_M | FLAG_S)


def frame_bytes(flags: int, data: bytes, length: int | None = None) -> bytes:
    """Type-Data of one EAP-TLS frame: flags, the TLS Message Length when FLAG_L is set, the data."""
    if flags & FLAG_L:
        return bytes((flags,)) + _U32.pack(len(data) if length is None else length) + data
    return bytes((flags,)) + data


class Reassembler:
    """Joins fragments of one TLS message; refuses anything over ``limit`` octets."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._parts: list[bytes] = []
        self._size = 0
        self._total: int | None = None
        self._active = False

    def add(self, frame: TlsFrame) -> bytes | None:
        """The whole message once the last fragment arrived, else None (the caller must ACK)."""
        if frame.flags & FLAG_L:
            self._announce(frame.length or 0)
        self._active = True
        self._size += len(frame.data)
        if self._size > self.limit or (self._total is not None and self._size > self._total):
            raise MalformedEap(f"TLS message grew to {self._size} octets, past its length or the limit")
        self._parts.append(frame.data)
        if frame.flags & FLAG_M:
            if not frame.data:
                raise MalformedEap("fragment with the M flag but no data")
            return None
        return self._complete()

    def _announce(self, total: int) -> None:
        if total > self.limit:
            raise MalformedEap(f"TLS Message Length {total} is over the {self.limit}-octet limit")
        if self._active and self._total is not None and total != self._total:
            raise MalformedEap("TLS Message Length changed between fragments")
        self._total = total

    def _complete(self) -> bytes:
        message = b"".join(self._parts)
        total = self._total
        self._parts, self._size, self._total, self._active = [], 0, None, False
        if total is not None and len(message) != total:
            raise MalformedEap(f"TLS message is {len(message)} octets, its length field said {total}")
        return message


# What an EAP-TLS fragment carries around its TLS data, counted against the link's MTU: the EAPOL header
# (4), the EAP header and Type (5), the flags (1) and the TLS Message Length (4). FreeRADIUS takes the
# same 14 octets off Framed-MTU.
LINK_OVERHEAD = 14
MIN_FRAGMENT = 64


def fragment_size(configured: int, link_mtu: int | None) -> int:
    """TLS data per EAP packet: the configured size, smaller when the NAS's Framed-MTU says the link
    carries less (RFC 3579 2.2; a fragment over it would be dropped on the air). A Framed-MTU too small
    for EAP-TLS at all is taken as a floor, not obeyed below ``MIN_FRAGMENT``."""
    if link_mtu is None:
        return configured
    return max(MIN_FRAGMENT, min(configured, link_mtu - LINK_OVERHEAD))


class Fragmenter:
    """Cuts one outgoing TLS message into frames of at most ``size`` data octets."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._rest = b""
        self._total = 0
        self._first = True

    def load(self, message: bytes) -> None:
        self._rest, self._total, self._first = message, len(message), True

    def has_output(self) -> bool:
        return bool(self._rest)

    def next_frame(self, version: int, *, always_length: bool = False) -> bytes:
        chunk, self._rest = self._rest[: self.size], self._rest[self.size :]
        flags = version & VERSION_MASK
        if self._first and (self._total > self.size or always_length):
            flags |= FLAG_L
        if self._rest:
            flags |= FLAG_M
        self._first = False
        return frame_bytes(flags, chunk, self._total)


class TlsConfigError(Exception):
    """The EAP server's certificate, key or client CA cannot be loaded."""


def load_server_contexts(config: TlsServerConfig) -> x509.Certificate:
    """Load the EAP certificate, key (and client CA) now, as every conversation will: a bad path or a key
    that does not match fails at start-up, not at the first login. Returns the server certificate."""
    try:
        for verify_client in (False, True) if config.client_ca_file is not None else (False,):
            for tls13 in {False, config.allow_tls13}:
                _context(config, verify_client, tls13)
        with open(config.cert_file, "rb") as f:
            return x509.load_pem_x509_certificate(f.read())
    except (OSError, SSL.Error, ValueError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or type(exc).__name__)
        raise TlsConfigError(f"EAP certificate {config.cert_file} / key {config.key_file}: {detail}") from None


@lru_cache(maxsize=32)
def _context(config: TlsServerConfig, verify_client: bool, tls13: bool) -> SSL.Context:
    """One context per configuration: loading keys per conversation would dominate the cost."""
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
    ctx.set_max_proto_version(SSL.TLS1_3_VERSION if tls13 else SSL.TLS1_2_VERSION)
    ctx.use_certificate_chain_file(str(config.cert_file))
    ctx.use_privatekey_file(str(config.key_file))
    ctx.check_privatekey()
    options = SSL.OP_NO_COMPRESSION | SSL.OP_NO_RENEGOTIATION
    if config.resumption:
        ctx.set_session_id(b"tsunagaru-eap")
    else:
        options |= SSL.OP_NO_TICKET
        ctx.set_session_cache_mode(SSL.SESS_CACHE_OFF)
    ctx.set_options(options)
    if verify_client:
        if config.client_ca_file is None:
            raise ValueError("EAP-TLS needs client_ca_file to verify client certificates")
        ctx.load_verify_locations(str(config.client_ca_file))
        ctx.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT, _keep_openssl_verdict)
    return ctx


def _keep_openssl_verdict(conn: SSL.Connection, cert: crypto.X509, errno: int, depth: int, ok: int) -> bool:
    """OpenSSL decides; the client certificate's own error is kept so the refusal can name it (expired).
    (OpenSSL does not keep a peer certificate that failed verification, so this is the only place.)"""
    ref = conn.get_app_data()
    tunnel = ref() if isinstance(ref, weakref.ref) else None
    if not ok and depth == 0 and isinstance(tunnel, TlsTunnel):
        tunnel.peer_verify_error = errno
    return bool(ok)


TLS_APPLICATION_DATA = 23
_RECORD_HEADER = 5


class RecordCounter:
    """Counts the application-data records in the bytes fed to a tunnel, whole records only, across
    feeds (a record may be cut between two EAP-TLS messages).

    Why: pyOpenSSL raises WantReadError for a read that finds nothing, and that path (its error checks,
    an exception) costs about twenty of its ordinary calls; reading until it raised was one such failed
    read per tunnelled round trip, two when a credential answer came between. Knowing how many records
    arrived, :meth:`TlsTunnel.read` stops without it. A miscount only costs that failed read again:
    a read that finds nothing still ends the loop.
    """

    __slots__ = ("_head", "_left", "_type", "ready")

    def __init__(self) -> None:
        self._head = b""  # a record header cut short by the end of the last feed
        self._left = 0  # body octets of the current record still to come
        self._type = 0
        self.ready = 0  # whole application-data records fed and not yet read

    def feed(self, data: bytes) -> None:
        pos, size = 0, len(data)
        while pos < size:
            if self._left:
                step = min(self._left, size - pos)
                self._left -= step
                pos += step
                if not self._left and self._type == TLS_APPLICATION_DATA:
                    self.ready += 1
                continue
            need = _RECORD_HEADER - len(self._head)
            self._head += data[pos : pos + need]
            pos += need
            if len(self._head) < _RECORD_HEADER:
                return
            self._type, self._left = self._head[0], int.from_bytes(self._head[3:5], "big")
            self._head = b""
            if not self._left and self._type == TLS_APPLICATION_DATA:
                self.ready += 1


class TlsTunnel:
    """A TLS server over memory BIOs: ``feed`` peer bytes, ``handshake``, ``read``/``write``, ``output``."""

    def __init__(self, config: TlsServerConfig, *, verify_client: bool, tls13: bool) -> None:
        tls13 = tls13 and config.allow_tls13
        self._conn = SSL.Connection(_context(config, verify_client, tls13), None)
        self._conn.set_accept_state()
        self._conn.set_app_data(weakref.ref(self))  # no cycle: freed by refcount
        self.established = False
        self.peer_verify_error = 0  # X509_V_ERR_* of the client certificate (depth 0), 0 when none
        # Known once the handshake completed, or at once when the context caps TLS at 1.2 (asking OpenSSL
        # costs ~5 us, and every fragment we send asks).
        self._tls13: bool | None = None if tls13 else False
        self._records = RecordCounter()

    def feed(self, data: bytes) -> None:
        if data:
            self._conn.bio_write(data)
            self._records.feed(data)

    def handshake(self) -> bool:
        """Advance the handshake; True once it completed. Raises TlsFailure on a TLS error."""
        if self.established:
            return True
        try:
            self._conn.do_handshake()
        except SSL.WantReadError:
            return False
        except SSL.Error as exc:
            raise TlsFailure(f"TLS handshake failed: {exc}") from exc
        self.established = True
        return True

    def read(self) -> bytes:
        """All application data decrypted so far: one ``recv`` per application-data record fed (a TLS
        record carries at most 16384 octets, one read's worth), none when no record came."""
        parts: list[bytes] = []
        records = self._records
        while records.ready > 0:
            records.ready -= 1
            try:
                chunk = self._conn.recv(_READ_CHUNK)
            except (SSL.WantReadError, SSL.ZeroReturnError):  # empty records, or a miscount: nothing left
                records.ready = 0
                break
            except SSL.Error as exc:
                raise TlsFailure(f"TLS record failed: {exc}") from exc
            if not chunk:
                break
            parts.append(chunk)
        return b"".join(parts)

    def write(self, data: bytes) -> None:
        try:
            self._conn.sendall(data)
        except SSL.Error as exc:
            raise TlsFailure(f"TLS write failed: {exc}") from exc

    def output(self) -> bytes:
        """Everything TLS wants to send to the peer (records, alerts)."""
        parts: list[bytes] = []
        while True:  # one read normally takes all (a flight is far below the buffer): no WantRead raised
            try:
                chunk = self._conn.bio_read(_OUTPUT_CHUNK)
            except SSL.WantReadError:
                break
            parts.append(chunk)
            if len(chunk) < _OUTPUT_CHUNK:
                break
        return b"".join(parts)

    @property
    def is_tls13(self) -> bool:
        if self._tls13 is not None:
            return self._tls13
        tls13 = self._conn.get_protocol_version_name() == "TLSv1.3"
        if self.established:  # fixed from now on: asked on every fragment, so remember it
            self._tls13 = tls13
        return tls13

    @property
    def version(self) -> str:
        return str(self._conn.get_protocol_version_name())

    def export(self, label: bytes, length: int, context: bytes | None = None) -> bytes:
        """RFC 5705 exporter (RFC 5216 PRF for TLS 1.2 when ``context`` is None)."""
        return bytes(self._conn.export_keying_material(label, length, context))

    def peer_certificate(self) -> x509.Certificate | None:
        der = self.peer_certificate_der()
        return None if der is None else parse_certificate(der)

    def peer_certificate_der(self) -> bytes | None:
        """The client's certificate (DER) once the handshake verified it."""
        cert = self._conn.get_peer_certificate()
        return None if cert is None else crypto.dump_certificate(crypto.FILETYPE_ASN1, cert)


@lru_cache(maxsize=4096)
def parse_certificate(der: bytes) -> x509.Certificate:
    """A client certificate parsed once: the same users come back all day (re-association, roaming
    between access points), and parsing, fingerprinting and naming the same DER again costs more than
    the lookup. Bounded; keyed by the exact octets."""
    return x509.load_der_x509_certificate(der)
