"""The ANP's activity path: per-request events into the accumulator, batches written off the event loop.

On the loop, :class:`ActivityRecorder` turns what the proxy already has (the request, the client, the
reply's outcome and Reject-Reason, the realm) into a ``tsunagaru.ops.activity.Event``: a few attribute
reads and a dict update, no I/O. :meth:`ActivityRecorder.tick` (every second from :meth:`run`) hands
the closed intervals to one writer thread; a slow or failing store costs batches (bounded, counted and
logged), never the proxy's latency. The writer is a Protocol; ``tsunagaru.store.ops_writer.
SqlActivityWriter`` writes one upsert per AP per interval.

Wiring (in ``anp/server.py``, by the lead): ``recorder.observe_reply(request, client, reply, realm)``
where a reply is sent (``_send``; Status-Server, rejects, answers from upstream) and
``recorder.observe_accounting(acct)`` once a record is spooled; ``recorder.run()`` as a task;
``await recorder.close()`` on shutdown.

Upstream peers (``watch_peers``): every attempt to reach an IdP is counted per (realm, peer) in a
``tsunagaru.ops.idp_peers.PeerTable`` (``observe_upstream``, from the forwarding paths), the RadSec pool's
state of each peer is sampled every tick, and once per interval the table's snapshot goes through the same
writer thread and queue (``write_peers``: one upsert per (node, realm, peer)).

Privacy: the User-Name and CUI become keyed hashes here (``IdentityHasher``) and only for accounting;
Calling-Station-Id (the phone's MAC address) is never read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from tsunagaru import logs
from tsunagaru.anp.clients import Client
from tsunagaru.anp.core import Reply, SpoolAccounting
from tsunagaru.anp.routing import PeerAddress
from tsunagaru.ops.activity import DEFAULT_INTERVAL_S, Accumulator, Batch, Event, IdentityHasher, Kind
from tsunagaru.ops.idp_peers import Found, Outcome, PeerBatch, PeerTable, StateOf
from tsunagaru.radius import Packet
from tsunagaru.radius.packet import CHARGEABLE_USER_IDENTITY, USER_NAME

log = logging.getLogger("tsunagaru.anp.activity")

NAS_IDENTIFIER = 32
ACCT_STATUS_TYPE = 40
ACCT_INPUT_OCTETS = 42
ACCT_OUTPUT_OCTETS = 43
ACCT_SESSION_ID = 44
ACCT_SESSION_TIME = 46
ACCT_INPUT_GIGAWORDS = 52
ACCT_OUTPUT_GIGAWORDS = 53
MAX_NAS_ID = 64
MAX_QUEUED = 8  # batches waiting while the writer is busy; beyond, the oldest is dropped
TICK_S = 1.0

KINDS = {"accept": Kind.ACCEPT, "reject": Kind.REJECT, "challenge": Kind.CHALLENGE, "status": Kind.STATUS}


class ActivityWriter(Protocol):
    def write(self, batch: Batch) -> object:
        """Store one batch (called in the writer thread); raising drops the batch, logged."""
        ...

    def write_peers(self, batch: PeerBatch) -> object:
        """Store one snapshot of the upstream peers (writer thread); it replaces the node's earlier rows."""
        ...


def default_ap_key(client: Client, request: Packet) -> str:
    """The AP a request is from. The registry exports one client per AP, named ``ap-<id>`` and pinned to
    its NAS-Identifier: that name is the key. A client without a pinned NAS-Identifier may be a controller
    or a RadSec connection serving many APs: its name plus the request's NAS-Identifier (the accumulator
    bounds how many distinct keys count)."""
    nas = request.get(NAS_IDENTIFIER)
    if not nas or client.nas_identifier is not None:
        return client.name
    text = nas[:MAX_NAS_ID].decode("utf-8", "replace")
    return f"{client.name}/{''.join(c if c.isprintable() else '?' for c in text)}"


def _int(request: Packet, attr: int) -> int:
    value = request.get(attr)
    return int.from_bytes(value, "big") if value is not None and len(value) == 4 else 0


@dataclass(slots=True)
class RecorderStats:
    events: int = 0
    batches_written: int = 0
    batches_failed: int = 0
    batches_dropped: int = 0


class ActivityRecorder:
    def __init__(self, writer: ActivityWriter, hasher: IdentityHasher, interval_s: int = DEFAULT_INTERVAL_S,
                 ap_key: Callable[[Client, Packet], str] = default_ap_key,
                 clock: Callable[[], float] = time.time) -> None:
        self.writer = writer
        self.hasher = hasher
        self.ap_key = ap_key
        self.clock = clock  # wall clock: intervals are calendar minutes, not monotonic time
        self.accumulator = Accumulator(interval_s=interval_s)
        self.stats = RecorderStats()
        self._queue: deque[Batch | PeerBatch] = deque()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="anp-activity")
        self._writing: Future[None] | None = None
        self.peers: PeerTable | None = None
        self._peer_state: StateOf | None = None

    def watch_peers(self, table: PeerTable, state_of: StateOf) -> None:
        """Publish the upstream peers too: ``state_of(host, port, name)`` is the RadSec pool's view."""
        self.peers, self._peer_state = table, state_of

    # -- on the event loop ------------------------------------------------------------------------

    def observe_reply(self, request: Packet, client: Client, reply: Reply, realm: str | None) -> None:
        kind = KINDS.get(reply.outcome)
        if kind is None:  # resends and accounting answers are counted where they happen
            return
        reason = int(reply.reason) if reply.reason is not None else None
        self.add(Event(self.ap_key(client, request), self.clock(), kind, reject_reason=reason,
                       realm=realm if realm and realm != "-" else None))

    def observe_own(self, reply: Reply) -> None:
        """A reply the ANP made itself (Status-Server, its own rejects): keyed by the client's name."""
        kind = KINDS.get(reply.outcome)
        if kind is None or reply.client is None:
            return
        reason = int(reply.reason) if reply.reason is not None else None
        self.add(Event(reply.client, self.clock(), kind, reject_reason=reason,
                       realm=reply.realm if reply.realm and reply.realm != "-" else None))

    def observe_accounting(self, acct: SpoolAccounting) -> None:
        request = acct.request
        key = self.ap_key(acct.client, request)
        session_id = request.get(ACCT_SESSION_ID)
        self.add(Event(
            key, self.clock(), Kind.ACCOUNTING,
            acct_status=_int(request, ACCT_STATUS_TYPE),
            octets_in=_int(request, ACCT_INPUT_GIGAWORDS) << 32 | _int(request, ACCT_INPUT_OCTETS),
            octets_out=_int(request, ACCT_OUTPUT_GIGAWORDS) << 32 | _int(request, ACCT_OUTPUT_OCTETS),
            session_time_s=_int(request, ACCT_SESSION_TIME),
            realm=acct.realm,
            session_key=self.hasher.session_key(key, session_id) if session_id else None,
            user_id=self.hasher.user_id(request.get(CHARGEABLE_USER_IDENTITY), request.get(USER_NAME)),
        ))

    def observe_upstream(self, realm: str | None, peer: PeerAddress, outcome: Outcome, mono: float) -> None:
        """One attempt to reach ``peer`` for ``realm`` (``mono``: the loop's monotonic time)."""
        if self.peers is not None and realm:
            self.peers.observe(realm, peer.host, peer.port, peer.name,
                               Found.SRV if peer.realm is not None else Found.STATIC, outcome, mono)

    def add(self, event: Event) -> None:
        self.stats.events += 1
        self.accumulator.add(event)

    def tick(self, now: float | None = None, force: bool = False) -> None:
        """Move closed batches to the writer thread (one write at a time, a bounded queue behind it)."""
        wall = self.clock() if now is None else now
        for batch in self.accumulator.take(wall, force):
            self._enqueue(batch)
        if self.peers is not None and self._peer_state is not None:
            mono = time.monotonic()
            self.peers.sample(self._peer_state, mono)
            snapshot = self.peers.take(wall, mono, force)
            if snapshot is not None:
                self._enqueue(snapshot)
        self.stats.batches_dropped += self.accumulator.dropped_batches
        self.accumulator.dropped_batches = 0
        if self._queue and (self._writing is None or self._writing.done()):
            self._writing = self._executor.submit(self._write, self._queue.popleft())

    def _enqueue(self, batch: Batch | PeerBatch) -> None:
        if len(self._queue) >= MAX_QUEUED:
            self._queue.popleft()
            self.stats.batches_dropped += 1
            logs.event(log, "activity batch dropped", logging.WARNING, why="writer behind", queued=MAX_QUEUED)
        self._queue.append(batch)

    async def run(self, tick_s: float = TICK_S) -> None:
        """Tick until cancelled."""
        while True:
            await asyncio.sleep(tick_s)
            self.tick()

    async def close(self, timeout: float = 10.0) -> None:
        """Flush everything (the interval in progress too) and stop the writer thread."""
        deadline = time.monotonic() + timeout
        self.tick(force=True)
        while (self._queue or (self._writing and not self._writing.done())) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            self.tick()
        if self._queue:
            self.stats.batches_dropped += len(self._queue)
            logs.event(log, "activity batches lost at shutdown", logging.WARNING, count=len(self._queue))
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- in the writer thread -------------------------------------------------------------------------

    def _write(self, batch: Batch | PeerBatch) -> None:
        try:
            if isinstance(batch, PeerBatch):
                self.writer.write_peers(batch)
            else:
                self.writer.write(batch)
            self.stats.batches_written += 1
        except Exception as exc:  # the store is down or full: lose this batch, keep the proxy going
            self.stats.batches_failed += 1
            logs.event(log, "activity batch not stored", logging.ERROR, why=f"{exc.__class__.__name__}: {exc}"[:300],
                       rows=len(batch.records), kind="peers" if isinstance(batch, PeerBatch) else "aps")
        if isinstance(batch, Batch) and batch.overflow_events:
            logs.event(log, "activity overflow", logging.WARNING, events=batch.overflow_events,
                       sessions=batch.overflow_sessions)
