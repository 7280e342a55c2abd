"""A lock with a lease in the database: exactly one scheduler is active at a time.

The holder renews the lease well before it runs out. A standby takes the lock only after the
lease expired, so a frozen or dead scheduler is replaced; launching stays idempotent anyway
(unique run key), so even two schedulers that both think they are active launch a wave once.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Connection, Table, or_, update

from campaign.db import dialect_insert, utcnow
from waves.models import SchedulerLease

table = cast(Table, SchedulerLease.__table__)
c = table.c


def hold(conn: Connection, name: str, holder: str, seconds: float, now: dt.datetime | None = None) -> bool:
    """Take or renew the lease; True if `holder` holds it afterwards."""
    now = now or utcnow()
    expires = now + dt.timedelta(seconds=seconds)
    conn.execute(
        dialect_insert(conn, table).values(name=name, holder=holder, expires_at=expires).on_conflict_do_nothing()
    )
    result = conn.execute(
        update(table)
        .where(c.name == name, or_(c.holder == holder, c.expires_at < now))
        .values(holder=holder, expires_at=expires)
    )
    return bool(result.rowcount)


def release(conn: Connection, name: str, holder: str) -> None:
    """Step down cleanly so a standby need not wait for the lease to run out."""
    conn.execute(update(table).where(c.name == name, c.holder == holder).values(expires_at=utcnow()))
