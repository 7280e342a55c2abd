"""Send-time throttling in messages per second per channel, shared by every worker through Redis.

Rate limits apply when a message is about to go out, never when work is queued: a queue of
chunks can be long, the relay still sees at most `rate` messages a second from all workers.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

# Take one slot in the current one-second window, or say how long until the next window.
_TAKE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], 2000) end
if n <= tonumber(ARGV[1]) then return 0 end
return 1
"""


class ThrottleUnavailable(Exception):
    """The shared rate window cannot be read (Redis is down): wait rather than send unthrottled."""


class Throttle(Protocol):
    def wait(self, channel: str) -> None: ...


class NoThrottle:
    def wait(self, channel: str) -> None:
        return None


class LocalThrottle:
    """Embedded default: one process, so a local clock is the shared one."""

    def __init__(self, rates: dict[str, float]) -> None:
        self.rates = rates
        self.next_at: dict[str, float] = {}
        self.lock = threading.Lock()  # several relay connections take slots from one clock

    def wait(self, channel: str) -> None:
        rate = self.rates.get(channel, 0.0)
        if rate <= 0:
            return
        with self.lock:
            now = time.monotonic()
            at = max(self.next_at.get(channel, now), now)
            self.next_at[channel] = at + 1.0 / rate
        if at > now:
            time.sleep(at - now)


class RedisThrottle:
    """A fixed one-second window per channel in Redis; every worker takes slots from it."""

    def __init__(self, url: str, rates: dict[str, float], prefix: str = "wavecast:") -> None:
        # Lazy: only a run with a broker keeps its windows in Redis; the embedded default never
        # loads the client (~0.1 s).
        import redis

        self.prefix = prefix
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.unavailable = (redis.RedisError, OSError)
        self.rates = rates
        self.take = self.client.register_script(_TAKE)

    def wait(self, channel: str) -> None:
        rate = self.rates.get(channel, 0.0)
        if rate <= 0:
            return
        per_window = max(1, int(rate))
        while True:
            now = time.time()
            window = int(now)
            try:
                taken = self.take(keys=[f"{self.prefix}rate:{channel}:{window}"], args=[per_window])
            except self.unavailable as exc:
                raise ThrottleUnavailable(f"send-rate window unavailable: {exc}") from None
            if taken == 0:
                return
            time.sleep(max(0.001, window + 1 - now))
