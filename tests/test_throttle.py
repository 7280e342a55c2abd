"""The send rate is shared by every worker through Redis, and applied when sending."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from waves.throttle import RedisThrottle


def test_workers_share_one_window_per_channel(redis_url: str) -> None:
    """Two workers (two throttles) together get `rate` slots in a one-second window, no more."""
    first = RedisThrottle(redis_url, {"newsletter": 5.0}, prefix="wctest-shared:")
    second = RedisThrottle(redis_url, {"newsletter": 5.0}, prefix="wctest-shared:")
    key = ["wctest-shared:rate:newsletter:1700000000"]
    granted = [first.take(keys=key, args=[5]) == 0 for _ in range(3)]
    granted += [second.take(keys=key, args=[5]) == 0 for _ in range(3)]
    assert granted == [True, True, True, True, True, False]
    other_channel = ["wctest-shared:rate:x:1700000000"]
    assert first.take(keys=other_channel, args=[5]) == 0
    client = redis.Redis.from_url(redis_url)
    assert 0 < client.pttl(key[0]) <= 2000  # windows expire by themselves
    client.delete(key[0], other_channel[0])
    client.close()


def test_no_rate_means_no_waiting(redis_url: str) -> None:
    throttle = RedisThrottle(redis_url, {}, prefix="wctest-none:")
    for _ in range(100):
        throttle.wait("newsletter")  # returns at once: no key is even written
    client = redis.Redis.from_url(redis_url)
    assert not list(client.scan_iter(match="wctest-none:*"))
    client.close()


def test_the_rate_paces_a_relay_not_the_outbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The campaign's rate is its relay's limit: e-mail to an SMTP relay waits for it, the .eml
    outbox of the embedded default reaches no relay and is not paced (the demo's send is quick)."""
    from campaign.channel_contract import RunContext
    from campaign.settings import get_settings
    from tests.conftest import reset_caches
    from tests.sending_setup import approved_campaign
    from waves.delivery import _rates

    monkeypatch.setenv("WAVECAST_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.delenv("WAVECAST_SMTP_URL", raising=False)
    reset_caches()
    bundle = approved_campaign(tmp_path, rate=30)
    run = RunContext(1, "first", bundle)
    assert "newsletter" not in _rates(run, get_settings())
    monkeypatch.setenv("WAVECAST_SMTP_URL", "smtp://127.0.0.1:2525")
    reset_caches()
    assert _rates(run, get_settings())["newsletter"] == 30
