"""Rate limits of the public subscribe endpoints: per address and per client, per hour.

A counter is keyed by an HMAC (WAVECAST_SECRET_KEY) of the address or the client's IP and of
the current hour, and lives one hour: no IP address is stored, and the keyed hash itself is
gone within the hour. With WAVECAST_BROKER_URL (Redis) the counters are in Redis, shared by
every web process; otherwise in this process (the embedded default).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

from redis import Redis
from redis.exceptions import RedisError

from campaign.settings import get_settings

WINDOW_SECONDS = 3600


def _key(kind: str, value: str, window: int) -> str:
    digest = hmac.new(get_settings().secret_key.encode(), f"{kind}:{value}:{window}".encode(), hashlib.sha256)
    return f"{get_settings().redis_prefix}subscribe:{kind}:{digest.hexdigest()[:32]}"


class _Local:
    """Counters in this process, dropped when their window has passed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, tuple[int, float]] = {}

    def hit(self, key: str, now: float) -> int:
        with self.lock:
            if len(self.counts) > 10_000:  # a flood of distinct keys cannot grow memory without end
                self.counts = {k: v for k, v in self.counts.items() if v[1] > now}
            count, until = self.counts.get(key, (0, now + WINDOW_SECONDS))
            if until <= now:
                count, until = 0, now + WINDOW_SECONDS
            self.counts[key] = (count + 1, until)
            return count + 1


_LOCAL = _Local()
_REDIS: dict[str, Redis] = {}


def _hit(key: str) -> int:
    url = get_settings().broker_url
    if url is None:
        return _LOCAL.hit(key, time.monotonic())
    client = _REDIS.get(url) or _REDIS.setdefault(url, Redis.from_url(url, socket_timeout=2))
    try:
        pipe = client.pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS, nx=True)
        count, _ = pipe.execute()
        return int(count)
    except RedisError:
        # Redis away: count in this process rather than let the form go unlimited or fail.
        return _LOCAL.hit(key, time.monotonic())


def _within(kind: str, value: str, limit: int) -> bool:
    window = int(time.time() // WINDOW_SECONDS)
    return _hit(_key(kind, value, window)) <= limit


def client_allowed(client: str) -> bool:
    """Count one request of this client (IP); False when over its hourly limit (the answer is 429)."""
    return _within("client", client, get_settings().subscribe_per_client)


def address_allowed(address: str) -> bool:
    """Count one request for this address; False when over its hourly limit. The visitor gets the
    same answer either way: only the confirmation mail is not sent again, so the form cannot
    flood someone's mailbox, nor tell anyone what was asked before."""
    return _within("address", address, get_settings().subscribe_per_address)
