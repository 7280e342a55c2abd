"""What a launched wave still waits for, said plainly by `send`, `resume` and `status`: which
rows, until when, why, and which process sends them then.

Nothing sleeps for them (a post scheduled for tomorrow, an account's spent quota for an hour);
the wave stays `running` until they are sent.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from campaign.bundle import load_spec
from campaign.db import get_engine
from campaign.errors import WavecastError
from campaign.settings import get_settings
from frontends.cli.app import out
from waves.status import waiting


def who_sends_them(wave: str) -> str:
    """The process that sends what waits, for the settings in force."""
    if get_settings().embedded:
        return (
            f"wave {wave} stays running until then; they go out when due while `wavecast serve` or "
            f"`wavecast scheduler` runs on this machine, or when `wavecast send --wave {wave}` is run "
            "again after that time"
        )
    return (
        f"wave {wave} stays running until then; a running `wavecast scheduler` queues them when due, "
        "for the Celery workers (`celery -A worker worker`)"
    )


def campaign_tz(campaign_dir: str) -> ZoneInfo:
    """The campaign's time zone, for showing times; UTC when its files cannot be read now."""
    try:
        return load_spec(Path(campaign_dir))[0].campaign.tz
    except (WavecastError, OSError):
        return ZoneInfo("UTC")


def say_waiting(run_id: int, wave: str, tz: ZoneInfo) -> None:
    with get_engine().connect() as conn:
        groups = waiting(conn, run_id)
    for group in groups:
        whose = f"{group['channel']}" + (f" (account {group['account']})" if group["account"] else "")
        until = group["until"].astimezone(tz).strftime("%Y-%m-%d %H:%M:%S %Z")
        why = f": {group['reason']}" if group["reason"] else " (scheduled)"
        out.print(f"waiting until {until}: {group['count']} × {whose}{why}", markup=False, soft_wrap=True)
    if groups:
        out.print(who_sends_them(wave), markup=False, soft_wrap=True)
