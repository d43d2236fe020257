"""Mail out of the portal: the messages (in the person's language), an SMTP sender, and a local sink.

The sender is :mod:`smtplib` (stdlib, enough for one message per sign-up); the sink is aiosmtpd, a real
SMTP server, used by the tests and the demo, writing each message it receives to ``OUTBOX/*.eml``.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from tsunagaru.secretfile import private_dir, write_private

log = logging.getLogger(__name__)


class MailError(Exception):
    """The message could not be handed to the SMTP server."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "Tsunagaru <noreply@tsunagaru.test>"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0


def build_message(sender: str, to: str, subject: str, body: str, now_ts: float) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(_utc(now_ts))
    msg["Message-ID"] = make_msgid(domain="tsunagaru.test")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(body, charset="utf-8")
    return msg


def _utc(ts: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


class SmtpMailer:
    """Sends one message per call over SMTP (STARTTLS with certificate checks when asked)."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def send(self, to: str, subject: str, body: str) -> None:
        s = self.settings
        msg = build_message(s.sender, to, subject, body, time.time())
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout) as smtp:
                if s.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username is not None and s.password is not None:
                    smtp.login(s.username, s.password)
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("mail not sent: %s", type(exc).__name__)
            raise MailError("the mail server did not take the message") from exc


Mailer = Callable[[str, str, str], None]


class _OutboxHandler:
    def __init__(self, outbox: Path, max_bytes: int) -> None:
        self.outbox = outbox
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = envelope.original_content or envelope.content
        if not isinstance(data, bytes) or len(data) > self.max_bytes:
            return "552 message too large"
        with self._lock:
            self._count += 1
            name = f"{time.time_ns()}-{self._count:06d}.eml"
        write_private(self.outbox / name, data)  # 0600 (a message holds a sign-up code), renamed into place
        return "250 OK"


def _free_tcp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class OutboxSink:
    """A real SMTP server on loopback that writes each message to ``outbox/*.eml`` (tests, the demo)."""

    def __init__(self, outbox: Path, host: str = "127.0.0.1", port: int = 0, max_bytes: int = 1 << 20) -> None:
        self.outbox = private_dir(outbox)  # 0700: the mails hold sign-up codes
        port = port or _free_tcp_port(host)  # aiosmtpd's readiness probe needs the real port up front
        self._controller = Controller(_OutboxHandler(outbox, max_bytes), hostname=host, port=port,
                                      data_size_limit=max_bytes)

    @property
    def port(self) -> int:
        return int(self._controller.port)

    def start(self) -> OutboxSink:
        """Listen (once: a stopped sink is not started again; make a new one)."""
        self._controller.start()
        self._running = True
        return self

    def stop(self) -> None:
        if getattr(self, "_running", False):
            self._running = False
            self._controller.stop()

    def messages(self) -> list[Path]:
        return sorted(self.outbox.glob("*.eml"))
