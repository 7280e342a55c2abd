"""Rows a crashed sender on this machine left `sending`, settled at once, without a scheduler.

In the embedded default there is no sweeper process: a `wavecast send` killed half-way leaves
its claimed rows `sending` under a lease nobody will ever renew. A row's claim names its holder
(`host:pid`); when that process is gone from this host, waiting for the lease to run out proves
nothing more. Its rows are settled with the sent journal exactly as the sweeper would: those
the relay took become `sent`, the rest are pending again, with one more attempt counted, so a
row that crashes its sender every time still ends `failed` instead of looping.
"""

from __future__ import annotations

import logging
import os
import socket

from sqlalchemy import select

from campaign.db import get_engine, utcnow
from campaign.settings import get_settings
from waves import ledger
from waves.delivery import make_journal
from waves.models import SENDING, Delivery

log = logging.getLogger(__name__)


def _dead_here(holder: str | None) -> bool:
    """True when `holder` names a process of this host that no longer runs."""
    host, _, pid = (holder or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # it runs, as another user
    return False


def settle_dead_claims(run_id: int) -> int:
    """Settle the run's rows held by dead processes of this host; returns how many were settled."""
    settings = get_settings()
    engine = get_engine()
    with engine.connect() as conn:
        held = conn.execute(
            select(Delivery.id, Delivery.claimed_by).where(Delivery.run_id == run_id, Delivery.status == SENDING)
        ).all()
    holders = {holder for _, holder in held}
    dead = {holder for holder in holders if _dead_here(holder)}
    ids = [ledger_id for ledger_id, holder in held if holder in dead]
    if not ids:
        return 0
    done = make_journal(settings).recorded(run_id, ids)
    with engine.begin() as conn:
        ledger.mark_sent(conn, done)
        rest = [i for i in ids if i not in done]
        ledger.release(conn, rest, "sender stopped while sending", utcnow(), settings.max_attempts)
    log.warning("run %s: %s row(s) of a stopped sender settled (%s were sent)", run_id, len(ids), len(done))
    return len(ids)
