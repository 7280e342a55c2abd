"""Wave start times: resolving relative starts, send windows and blackout dates.

Times in campaign files are local to the campaign's time zone; everything computed here is
timezone-aware, and stored as UTC by the callers.
"""

from __future__ import annotations

import datetime as dt

from campaign.model import WEEKDAYS, After, Campaign, CampaignInfo


class StartCycle(ValueError):
    """Relative starts refer to each other in a loop or to an unknown wave."""


def resolve_starts(spec: Campaign) -> dict[str, dt.datetime]:
    """Every wave's start as an aware datetime in the campaign's time zone."""
    tz = spec.campaign.tz
    by_id = {w.id: w for w in spec.waves}
    resolved: dict[str, dt.datetime] = {}

    def start_of(wave_id: str, trail: tuple[str, ...]) -> dt.datetime:
        if wave_id in resolved:
            return resolved[wave_id]
        if wave_id in trail:
            raise StartCycle(" -> ".join((*trail, wave_id)))
        if wave_id not in by_id:
            raise StartCycle(f"unknown wave {wave_id!r}")
        start = by_id[wave_id].start
        if isinstance(start, After):
            base = start_of(start.after, (*trail, wave_id))
            # Add calendar days in local time, so 10:00 stays 10:00 across a DST change.
            local = base.replace(tzinfo=None) + dt.timedelta(days=start.days, hours=start.hours)
            if start.at is not None:
                local = local.replace(hour=start.at.hour, minute=start.at.minute, second=0)
            value = local.replace(tzinfo=tz)
        else:
            value = start.replace(tzinfo=tz)
        # Normalise a time that falls in a DST gap to the instant it really denotes.
        value = value.astimezone(dt.UTC).astimezone(tz)
        resolved[wave_id] = value
        return value

    for wave in spec.waves:
        start_of(wave.id, ())
    return resolved


def blackout_name(info: CampaignInfo, moment: dt.datetime) -> str | None:
    local = moment.astimezone(info.tz).date()
    for blackout in info.blackout_dates:
        if blackout.date == local:
            return blackout.name
    return None


def in_window(info: CampaignInfo, moment: dt.datetime) -> bool:
    local = moment.astimezone(info.tz)
    window = info.send_window
    day = WEEKDAYS[local.weekday()]
    return day in window.days and window.start <= local.time().replace(tzinfo=None) < window.end


def allowed(info: CampaignInfo, moment: dt.datetime) -> bool:
    """May a wave start at this moment: inside the send window and not on a blackout date?"""
    return in_window(info, moment) and blackout_name(info, moment) is None


def next_allowed(info: CampaignInfo, moment: dt.datetime) -> dt.datetime:
    """The first moment at or after ``moment`` when a wave may start."""
    tz = info.tz
    local = moment.astimezone(tz)
    for _ in range(400):
        if allowed(info, local):
            return local
        window = info.send_window
        if local.time().replace(tzinfo=None) < window.start:
            candidate = local.replace(hour=window.start.hour, minute=window.start.minute, second=0, microsecond=0)
        else:
            nxt = (local.replace(tzinfo=None) + dt.timedelta(days=1)).replace(
                hour=window.start.hour, minute=window.start.minute, second=0, microsecond=0
            )
            candidate = nxt.replace(tzinfo=tz)
        local = candidate.astimezone(dt.UTC).astimezone(tz)
    raise ValueError("no allowed send time within 400 days")
