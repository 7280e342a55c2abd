"""The send rate is shared by every worker through Redis, and applied when sending."""

from __future__ import annotations

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
