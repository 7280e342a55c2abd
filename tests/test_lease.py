"""The scheduler lease: one holder at a time, taken over only after it runs out."""

from __future__ import annotations

import datetime as dt

from campaign.db import get_engine, utcnow
from waves.lease import hold, release


def test_one_holder_until_the_lease_runs_out(database_url: str) -> None:
    engine = get_engine()
    now = utcnow()
    with engine.begin() as conn:
        assert hold(conn, "scheduler", "a", 10, now)
        assert not hold(conn, "scheduler", "b", 10, now)
        assert hold(conn, "scheduler", "a", 10, now + dt.timedelta(seconds=5))  # renewal
        assert not hold(conn, "scheduler", "b", 10, now + dt.timedelta(seconds=14))
        assert hold(conn, "scheduler", "b", 10, now + dt.timedelta(seconds=16))  # a went quiet
        assert not hold(conn, "scheduler", "a", 10, now + dt.timedelta(seconds=17))


def test_release_lets_a_standby_in_at_once(database_url: str) -> None:
    engine = get_engine()
    with engine.begin() as conn:
        assert hold(conn, "scheduler", "a", 60)
        release(conn, "scheduler", "a")
    with engine.begin() as conn:
        assert hold(conn, "scheduler", "b", 60, utcnow() + dt.timedelta(milliseconds=1))
