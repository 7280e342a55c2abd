"""A platform's published write quota, kept on our side so a campaign never runs into it.

A platform counts points per account and window (Bluesky's are in its channel module,
campaign/channels/bluesky.py). Every worker takes points
from one counter per account and window: in Redis when a broker is set, in this process otherwise
(the embedded default is one process). A publish that would overdraw a window is not attempted:
the messenger raises TransientError with the time until that window ends, and the row waits.

Windows are fixed (aligned to the epoch), which can let two windows' worth pass around a
boundary within one window's time; the PDS's own limiter answers 429 then, which is honoured too.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import ClassVar, Protocol

from campaign.channel_contract import TransientError


@dataclass(frozen=True)
class Window:
    seconds: int
    points: int


# Check every window first, then spend in all of them: all or nothing, in one round trip.
# KEYS: one per window. ARGV: points, then per window its limit and its lifetime in seconds.
# Returns 0 when taken, else the 1-based number of the window that is full.
_TAKE = """
local points = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local used = tonumber(redis.call('GET', key) or '0')
  if used + points > tonumber(ARGV[2 * i]) then return i end
end
for i, key in ipairs(KEYS) do
  redis.call('INCRBY', key, points)
  redis.call('EXPIRE', key, tonumber(ARGV[2 * i + 1]))
end
return 0
"""


class Quota(Protocol):
    def take(self, account: str, points: int) -> None:
        """Spend POINTS of the account's quota, or raise TransientError until the full window ends."""
        ...


def _keys(platform: str, account: str, windows: tuple[Window, ...], now: float) -> list[str]:
    return [f"quota:{platform}:{account}:{w.seconds}:{int(now // w.seconds)}" for w in windows]


def _refusal(platform: str, account: str, window: Window, now: float) -> TransientError:
    wait = window.seconds - now % window.seconds
    return TransientError(
        f"{platform} quota of account {account!r} spent: {window.points} points per {window.seconds} s; "
        f"the window ends in {wait:.0f} s",
        retry_after=wait,
    )


class LocalQuota:
    """The embedded default: one process, so counters in this process are the shared ones."""

    _used: ClassVar[dict[str, int]] = {}  # shared by every messenger of the process, across chunks
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, platform: str, windows: tuple[Window, ...]) -> None:
        self.platform = platform
        self.windows = windows

    def take(self, account: str, points: int) -> None:
        now = time.time()
        keys = _keys(self.platform, account, self.windows, now)
        with self._lock:
            for key, window in zip(keys, self.windows, strict=True):
                if self._used.get(key, 0) + points > window.points:
                    raise _refusal(self.platform, account, window, now)
            for key in keys:
                self._used[key] = self._used.get(key, 0) + points
            # Windows that are over count for nothing: forget them, so the counters stay few.
            stale = f"quota:{self.platform}:{account}:"
            for key in [k for k in self._used if k.startswith(stale) and k not in keys]:
                del self._used[key]


class RedisQuota:
    """Counters in Redis, one per account and window, shared by every worker."""

    def __init__(self, url: str, prefix: str, platform: str, windows: tuple[Window, ...]) -> None:
        import redis  # only a run with a broker keeps its counters in Redis (~0.1 s to load)

        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.unavailable = (redis.RedisError, OSError)
        self.script = self.client.register_script(_TAKE)
        self.prefix = prefix
        self.platform = platform
        self.windows = windows

    def take(self, account: str, points: int) -> None:
        now = time.time()
        keys = [self.prefix + key for key in _keys(self.platform, account, self.windows, now)]
        args: list[int] = [points]
        for window in self.windows:
            args += [window.points, window.seconds * 2]
        try:
            full = int(self.script(keys=keys, args=args))
        except self.unavailable as exc:
            raise TransientError(f"{self.platform} quota counter unavailable: {exc}") from None
        if full:
            raise _refusal(self.platform, account, self.windows[full - 1], now)
