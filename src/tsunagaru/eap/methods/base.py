"""The one interface every EAP method implements (hostapd's ``eap_method`` split), and the registry.

A method sees only Type-Data: the session adds EAP headers, identifiers, Nak and retransmission. The
flow per round is hostapd's: ``process_response`` then, unless ``is_done``, ``build_request``. When done,
``outcome`` says success or failure, why (a :class:`Verdict` the RADIUS front maps to Reject-Reason) and
the key material.

A method that needs a credential checked calls :meth:`EapMethod.ask` with the question and what to do
with the answer, and returns: ``pending`` then holds the question, the session hands it out, and the
adapter calls :meth:`EapMethod.resume` with the answer (from its cache at once, or from a worker thread
later). Methods never call the store themselves.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from tsunagaru.eap.credentials import CredentialAnswer, CredentialQuery, CredentialStore, Verdict
from tsunagaru.eap.tls_config import TlsServerConfig


@dataclass(frozen=True, slots=True)
class MethodConfig:
    """What methods may need from the server: TLS material and tunable limits, and the user store that the
    adapters answer the methods' credential questions from (the methods never call it)."""

    store: CredentialStore
    tls: TlsServerConfig | None = None
    server_name: str = "tsunagaru"  # MSCHAPv2 authenticator name
    inner_eap_methods: tuple[int, ...] = (26,)  # EAP types allowed inside TTLS and PEAP


@dataclass(frozen=True, slots=True)
class MethodOutcome:
    """How a finished method ended. ``msk``/``emsk`` are 64 octets each on success (empty otherwise);
    plain EAP-MSCHAPv2 has a 32-octet MSK and no EMSK, as in hostapd."""

    success: bool
    verdict: Verdict
    msk: bytes = b""
    emsk: bytes = b""
    inner_identity: str | None = None
    reason: str = ""


@dataclass(slots=True)
class MethodState:
    """Book-keeping shared by the implementations: finished or not, and how."""

    done: bool = False
    outcome: MethodOutcome | None = field(default=None)


class EapMethod(ABC):
    """Server side of one EAP method for one conversation."""

    eap_type: ClassVar[int]

    def __init__(self, config: MethodConfig) -> None:
        self.config = config
        self.identity = ""
        self._state = MethodState()
        #: The time of the response being processed (set by the session before each step): a method that
        #: runs a conversation of its own inside (TTLS inner EAP) passes it on, so its timers are real.
        self.now = 0.0
        #: The credential question this method waits on (None: not waiting); see :meth:`ask`.
        self.pending: CredentialQuery | None = None
        self._then: Callable[[CredentialAnswer], None] | None = None

    def init(self, identity: str, link_mtu: int | None = None) -> None:
        """Start for this (outer) identity; called once before the first ``build_request``. ``link_mtu``
        is the largest EAP packet the peer's link carries (RADIUS Framed-MTU), when the NAS said."""
        self.identity = identity

    @abstractmethod
    def build_request(self) -> bytes:
        """Type-Data of the next EAP-Request."""

    @abstractmethod
    def process_response(self, data: bytes) -> None:
        """Consume the Type-Data of an EAP-Response; raise MalformedEap for a broken one."""

    def is_done(self) -> bool:
        return self._state.done

    def ask(self, query: CredentialQuery, then: Callable[[CredentialAnswer], None]) -> None:
        """Wait for the answer to ``query``; ``then(answer)`` runs when the adapter has it."""
        if self.pending is not None:
            raise RuntimeError("a method asks one credential question at a time")
        self.pending, self._then = query, then

    def resume(self, answer: CredentialAnswer) -> None:
        """Go on with the answer to ``pending`` (which may ask again), then :meth:`after_answer`."""
        then = self._then
        if then is None:
            raise RuntimeError("resume without a pending credential question")
        self.pending = self._then = None
        then(answer)
        if self.pending is None:
            self.after_answer()

    def after_answer(self) -> None:
        """What the round owes once no question is left (the TLS methods flush the tunnel's output)."""
        return None

    def outcome(self) -> MethodOutcome:
        if self._state.outcome is None:
            raise RuntimeError("method outcome asked before the method finished")
        return self._state.outcome

    def finish(self, outcome: MethodOutcome) -> None:
        """Record the end; the next step of the session sends EAP-Success or EAP-Failure."""
        self._state.done = True
        self._state.outcome = outcome

    def fail(self, verdict: Verdict, reason: str) -> None:
        self.finish(MethodOutcome(False, verdict, reason=reason))


MethodFactory = Callable[[MethodConfig], EapMethod]
_REGISTRY: dict[int, MethodFactory] = {}


def register(eap_type: int) -> Callable[[type[EapMethod]], type[EapMethod]]:
    """Class decorator: make a method available by its EAP type."""

    def deco(cls: type[EapMethod]) -> type[EapMethod]:
        _REGISTRY[eap_type] = cls
        return cls

    return deco


def create(eap_type: int, config: MethodConfig) -> EapMethod:
    """A fresh method instance for ``eap_type``; KeyError when none is registered."""
    _load_builtin()
    return _REGISTRY[eap_type](config)


def registered() -> frozenset[int]:
    _load_builtin()
    return frozenset(_REGISTRY)


_loaded = False


def _load_builtin() -> None:
    # Imported lazily (once): the method modules import this one to register themselves.
    global _loaded
    if not _loaded:
        from tsunagaru.eap.methods import mschapv2, peap, tls, ttls  # noqa: F401
        _loaded = True
