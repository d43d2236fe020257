"""Sans-IO RadSec connections: what a client or a server does with bytes, replies and timers.

The asyncio adapters in :mod:`client` and :mod:`server` only move bytes and re-arm one timer, as in
aioquic: ``receive_data(data, now)`` / ``handle_timer(now)`` return events, ``timer()`` says when to
call back. A :class:`ProtocolViolation` raised from ``receive_data`` means "close the connection".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from tsunagaru.radius import (
    AuthenticatorMismatch,
    Code,
    MalformedPacket,
    Packet,
    sign_reply,
    sign_request,
    verify_reply,
    verify_request,
)
from tsunagaru.radius.codes import REPLIES, is_request
from tsunagaru.radsec.errors import FramingError, ProtocolViolation
from tsunagaru.radsec.framing import StreamFramer
from tsunagaru.radsec.tracker import RequestTracker
from tsunagaru.radsec.watchdog import IdleTimer, PeerState, Watchdog, WatchdogAction, WatchdogConfig

RADSEC_SECRET = b"radsec"  # RFC 6614 2.3: the shared secret over TLS is the fixed string "radsec"
DEFAULT_REQUEST_TIMEOUT = 30.0

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Send:
    """Write these octets to the connection."""

    data: bytes


@dataclass(frozen=True, slots=True)
class Close:
    """Close the connection (idle, or the watchdog found the peer DOWN)."""

    reason: str


# The generic events are plain classes, not dataclasses: mypyc compiles them (a compiled Generic
# dataclass fails at import). Read-only by convention, as the frozen ones.
class Answered(Generic[T]):
    """A verified reply to the request the adapter tagged with ``value``."""

    __slots__ = ("packet", "value")

    def __init__(self, value: T, packet: Packet) -> None:
        self.value = value
        self.packet = packet

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Answered) and (other.value, other.packet) == (self.value, self.packet)

    def __hash__(self) -> int:
        return hash((self.value, self.packet))

    def __repr__(self) -> str:
        return f"Answered(value={self.value!r}, packet={self.packet!r})"


class TimedOut(Generic[T]):
    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimedOut) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"TimedOut(value={self.value!r})"


@dataclass(frozen=True, slots=True)
class Received:
    """A verified request for the server's handler."""

    packet: Packet


class _Outstanding(Generic[T]):
    __slots__ = ("authenticator", "code", "value")

    def __init__(self, code: int, authenticator: bytes, value: T | None) -> None:
        self.code = code
        self.authenticator = authenticator
        self.value = value  # None marks the Status-Server probe


def _decode(frame: bytes) -> Packet:
    try:
        return Packet.from_bytes(frame)
    except MalformedPacket as exc:
        raise FramingError(f"malformed packet: {exc.reason}") from exc


class ClientSession(Generic[T]):
    """One client connection: identifiers, reply checks, per-request timeouts, watchdog, idle."""

    def __init__(
        self,
        *,
        now: float,
        secret: bytes = RADSEC_SECRET,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        watchdog: WatchdogConfig | None = None,
        idle_timeout: float | None = None,
    ) -> None:
        self.secret = secret
        self.request_timeout = request_timeout
        self.framer = StreamFramer()
        self.tracker: RequestTracker[_Outstanding[T]] = RequestTracker(quarantine=request_timeout)
        self.watchdog = Watchdog(watchdog, now=now) if watchdog is not None else None
        self.idle = IdleTimer(idle_timeout, now=now)

    @property
    def state(self) -> PeerState:
        return self.watchdog.state if self.watchdog is not None else PeerState.UP

    def send_request(self, packet: Packet, value: T, *, now: float, timeout: float | None = None) -> bytes:
        """Assign an identifier and sign ``packet``; return its wire form.

        A non-zero authenticator in ``packet`` is kept (the caller hid User-Password with it).
        """
        out = _Outstanding(packet.code, b"", value)
        status = packet.code == Code.STATUS_SERVER
        allocate = self.tracker.allocate_status if status else self.tracker.allocate
        identifier = allocate(out, now=now, timeout=timeout or self.request_timeout)
        signed = sign_request(Packet(packet.code, identifier, packet.authenticator, packet.attributes), self.secret)
        out.authenticator = signed.authenticator
        self.idle.touch(now)
        return signed.to_bytes()

    def receive_data(self, data: bytes, *, now: float) -> list[Answered[T]]:
        """Feed received octets; return the replies they complete. Raises ProtocolViolation."""
        events: list[Answered[T]] = []
        for frame in self.framer.feed(data):
            reply = _decode(frame)
            pending = self.tracker.peek(reply.identifier)
            if pending is None:
                continue  # late reply to a timed-out request, or unknown: discard (RFC 2865 3)
            out = pending.value
            if reply.code not in REPLIES.get(out.code, frozenset()):
                raise ProtocolViolation(f"reply code {reply.code} does not answer request code {out.code}")
            try:
                verify_reply(reply, out.authenticator, self.secret, require_message_authenticator=False)
            except (AuthenticatorMismatch, MalformedPacket) as exc:
                raise ProtocolViolation(f"reply {reply.identifier} failed verification: {exc}") from exc
            self.tracker.complete(reply.identifier)
            if self.watchdog is not None:
                self.watchdog.on_reply(now)
            if out.value is not None:
                self.idle.touch(now)
                events.append(Answered(out.value, reply))
        return events

    def timer(self) -> float | None:
        times = [self.tracker.next_deadline(), self.idle.deadline()]
        if self.watchdog is not None:
            times.append(self.watchdog.next_timer())
        present = [t for t in times if t is not None]
        return min(present) if present else None

    def handle_timer(self, now: float) -> list[TimedOut[T] | Send | Close]:
        events: list[TimedOut[T] | Send | Close] = []
        for pending in self.tracker.expire(now):
            if pending.value.value is not None:
                events.append(TimedOut(pending.value.value))
                if self.watchdog is not None:
                    self.watchdog.on_request_timeout(now)
        if self.watchdog is not None:
            action = self.watchdog.on_timer(now)
            if action is WatchdogAction.PROBE and not self.tracker.probe_pending():
                events.append(Send(self._probe(now, self.watchdog.config.response_timeout)))
            elif action is WatchdogAction.CLOSE:
                events.append(Close("watchdog: peer did not answer Status-Server"))
        if self.tracker.in_flight == 0 and self.idle.expired(now):
            events.append(Close("idle timeout"))
        elif self.tracker.in_flight:
            self.idle.touch(now)
        return events

    def connection_lost(self) -> list[T]:
        """The connection is gone; the values of every request still waiting."""
        if self.watchdog is not None:
            self.watchdog.on_closed()
        return [p.value.value for p in self.tracker.drain() if p.value.value is not None]

    def _probe(self, now: float, timeout: float) -> bytes:
        out: _Outstanding[T] = _Outstanding(Code.STATUS_SERVER, b"", None)
        self.tracker.allocate_status(out, now=now, timeout=timeout)
        signed = sign_request(Packet(Code.STATUS_SERVER, 0), self.secret)  # RFC 5997 requires M-A
        out.authenticator = signed.authenticator
        return signed.to_bytes()


class ServerSession:
    """One accepted connection: frames and verifies requests, answers Status-Server, signs replies."""

    def __init__(
        self, *, now: float, secret: bytes = RADSEC_SECRET, idle_timeout: float | None = None
    ) -> None:
        self.secret = secret
        self.framer = StreamFramer()
        self.idle = IdleTimer(idle_timeout, now=now)

    def receive_data(self, data: bytes, *, now: float) -> list[Received | Send]:
        """Feed received octets; return requests for the handler and Status-Server answers."""
        events: list[Received | Send] = []
        for frame in self.framer.feed(data):
            request = _decode(frame)
            if not is_request(request.code):
                raise ProtocolViolation(f"code {request.code} is not a request")
            needs_ma = request.code == Code.STATUS_SERVER
            try:
                verify_request(request, self.secret, require_message_authenticator=needs_ma)
            except (AuthenticatorMismatch, MalformedPacket) as exc:
                raise ProtocolViolation(f"request {request.identifier} failed verification: {exc}") from exc
            self.idle.touch(now)
            if request.code == Code.STATUS_SERVER:
                events.append(Send(self.reply(request, Packet(Code.ACCESS_ACCEPT, 0))))
            else:
                events.append(Received(request))
        return events

    def reply(self, request: Packet, reply: Packet) -> bytes:
        """Sign ``reply`` as the answer to ``request`` (identifier copied, Message-Authenticator first)."""
        signed = sign_reply(reply.replace(identifier=request.identifier), request.authenticator, self.secret)
        return signed.to_bytes()

    def timer(self) -> float | None:
        return self.idle.deadline()

    def handle_timer(self, now: float) -> list[Close]:
        return [Close("idle timeout")] if self.idle.expired(now) else []
