"""The running ANP records per-AP activity into the store (issue 13 item 1): forwarded replies, its own
replies (Status-Server) and accounting, written off the loop, with hashed session and user ids only."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from tests.anp.test_stack import ports
from tsunagaru.demo_state import prepare
from tsunagaru.radius import Code, Packet, default_dictionary, encode
from tsunagaru.radius.hiding import hide_user_password
from tsunagaru.radsec import RadSecClient, client_context
from tsunagaru.stack import start_stack
from tsunagaru.store.engine import Store
from tsunagaru.store.ops_tables import AccountingSessionRow, ActivityRow

D = default_dictionary()


def test_activity_reaches_the_store(tmp_path: Path) -> None:
    p = ports()
    state = prepare(tmp_path / "state", datetime.now(UTC), p)
    url = state.db_url  # the demo's ANP records activity into the registry's store (anp.toml: activity_db)
    assert f'activity_db = "{url}"' in state.path("anp.toml").read_text()

    async def main() -> None:
        stack = await start_stack(state)
        try:
            ctx = client_context(certfile=state.path("ap.pem"), keyfile=state.path("ap.key"),
                                 cafile=state.path("federation-roots.pem"), check_hostname=False)
            client = await RadSecClient.connect("127.0.0.1", p.anp_radsec, ctx, server_name="anp.tsunagaru.test",
                                                watchdog=None)
            try:
                auth = os.urandom(16)
                attrs = (*encode(D, "User-Name", "alice@idp.tsunagaru.test"),
                         (2, hide_user_password(b"alice-password", b"radsec", auth)))
                assert (await client.request(Packet(Code.ACCESS_REQUEST, 0, auth, attrs), timeout=5)).code \
                    == Code.ACCESS_ACCEPT
                acct = Packet(Code.ACCOUNTING_REQUEST, 0, attributes=(
                    *encode(D, "User-Name", "alice@idp.tsunagaru.test"), *encode(D, "Acct-Session-Id", "s1"),
                    *encode(D, "Acct-Status-Type", "Start")))
                assert (await client.request(acct, timeout=5)).code == Code.ACCOUNTING_RESPONSE
            finally:
                await client.aclose()
        finally:
            await stack.close()  # flushes the interval in progress

    asyncio.run(main())
    store = Store.open(url)
    with store.session() as s:
        rows = s.scalars(select(ActivityRow)).all()
        sessions = s.scalars(select(AccountingSessionRow)).all()
    assert [(r.accepts, r.acct_starts) for r in rows] == [(1, 1)]
    assert len(sessions) == 1 and sessions[0].user_id is not None
    assert "alice" not in (sessions[0].user_id or "") and sessions[0].session_key != "s1"
    assert state.path("activity.key").stat().st_mode & 0o777 == 0o600
