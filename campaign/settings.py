"""Every setting wavecast reads, in one place: environment variables with the WAVECAST_ prefix.

They are read once (``get_settings`` is cached); tests that change the environment call
``get_settings.cache_clear()``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from campaign.errors import SettingsError

_DEFAULT_SECRET = "wavecast-embedded-default-not-secret"  # noqa: S105 - only for the embedded default


@dataclass(frozen=True)
class Settings:
    database_url: str
    broker_url: str | None
    smtp_url: str | None
    outbox_dir: Path
    secret_key: str
    base_url: str
    admin_token: str | None
    send_lease_seconds: int
    sweep_interval_seconds: int
    scheduler_lease_seconds: int
    misfire_grace_seconds: int
    max_attempts: int
    chunk_size: int
    ledger_batch_size: int
    rate_per_second: float
    smtp_timeout_seconds: float
    retry_base_seconds: float
    social_webhook_url: str | None
    redis_prefix: str
    social_webhook_secret: str | None
    retry_max_seconds: float
    visibility_timeout_seconds: int

    @property
    def embedded(self) -> bool:
        """True when no broker is configured: tasks run in-process."""
        return self.broker_url is None


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def _float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a number") from None
    if value < 0:
        raise SettingsError(f"{name}={raw!r}: must not be negative")
    return value


def _url(env: dict[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name) or None
    if raw is not None and not raw.startswith(schemes):
        raise SettingsError(f"{name}={raw!r}: expected a URL starting with one of {', '.join(schemes)}")
    return raw


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Build settings from an environment mapping; raises SettingsError naming the variable."""
    env = dict(os.environ if env is None else env)
    p = "WAVECAST_"
    lease = _int(env, p + "SEND_LEASE_SECONDS", 300, minimum=1)
    base_url = env.get(p + "BASE_URL") or "http://127.0.0.1:8000"
    if not base_url.startswith(("http://", "https://")):
        raise SettingsError(f"{p}BASE_URL={base_url!r}: expected an http:// or https:// address")
    retry_max = _float(env, p + "RETRY_MAX_SECONDS", 300.0)
    visibility = _int(env, p + "VISIBILITY_TIMEOUT_SECONDS", 3600, minimum=60)
    # A retry delay or a task that outlives the broker's visibility timeout gets redelivered
    # while it is still waiting or running: keep both well under it.
    if retry_max * 2 > visibility:
        raise SettingsError(
            f"{p}RETRY_MAX_SECONDS={retry_max:g} must stay under half of {p}VISIBILITY_TIMEOUT_SECONDS={visibility}"
        )
    if lease * 2 > visibility:
        raise SettingsError(
            f"{p}SEND_LEASE_SECONDS={lease} must stay under half of {p}VISIBILITY_TIMEOUT_SECONDS={visibility}"
        )
    return Settings(
        database_url=env.get(p + "DATABASE_URL") or "sqlite:///wavecast.db",
        broker_url=_url(env, p + "BROKER_URL", ("redis://", "rediss://")),
        smtp_url=_url(env, p + "SMTP_URL", ("smtp://", "smtps://")),
        outbox_dir=Path(env.get(p + "OUTBOX_DIR") or "outbox"),
        secret_key=env.get(p + "SECRET_KEY") or _DEFAULT_SECRET,
        base_url=base_url.rstrip("/"),
        admin_token=env.get(p + "ADMIN_TOKEN") or None,
        send_lease_seconds=lease,
        sweep_interval_seconds=_int(env, p + "SWEEP_INTERVAL_SECONDS", 60, minimum=1),
        scheduler_lease_seconds=_int(env, p + "SCHEDULER_LEASE_SECONDS", 30, minimum=2),
        misfire_grace_seconds=_int(env, p + "MISFIRE_GRACE_SECONDS", 3600),
        max_attempts=_int(env, p + "MAX_ATTEMPTS", 10, minimum=1),
        chunk_size=_int(env, p + "CHUNK_SIZE", 500, minimum=1),
        ledger_batch_size=_int(env, p + "LEDGER_BATCH_SIZE", 10000, minimum=1),
        rate_per_second=_float(env, p + "RATE_PER_SECOND", 0.0),
        smtp_timeout_seconds=_float(env, p + "SMTP_TIMEOUT_SECONDS", 30.0),
        retry_base_seconds=_float(env, p + "RETRY_BASE_SECONDS", 10.0),
        social_webhook_url=_url(env, p + "SOCIAL_WEBHOOK_URL", ("http://", "https://")),
        redis_prefix=env.get(p + "REDIS_PREFIX") or "wavecast:",
        social_webhook_secret=env.get(p + "SOCIAL_WEBHOOK_SECRET") or None,
        retry_max_seconds=_float(env, p + "RETRY_MAX_SECONDS", 300.0),
        visibility_timeout_seconds=_int(env, p + "VISIBILITY_TIMEOUT_SECONDS", 3600, minimum=60),
    )


@cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return load_settings()
