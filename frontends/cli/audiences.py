"""`wavecast audiences` (who is in which audience, who is forgotten) and `wavecast forecast`."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from audiences.coverage import Coverage, coverage, wave_breakdown
from audiences.forecast import forecast
from campaign.db import get_engine
from campaign.errors import WavecastError
from campaign.loaded_campaign import Bundle
from campaign.model import Campaign
from campaign.timing import resolve_starts
from frontends.cli import counting
from frontends.cli.app import CampaignOpt, DirArg, app, campaign_dir, open_bundle, out
from frontends.cli.as_of import AsOfOpt, today, warn_past
from frontends.cli.choices import closest
from waves.post_rows import post_segments


def _wave_start(spec: Campaign, wave_id: str) -> dt.datetime:
    starts = resolve_starts(spec)
    if wave_id not in starts:
        meant = closest(wave_id, list(starts))
        hint = f"; did you mean --wave {meant}?" if meant else ""
        raise WavecastError(f"no wave {wave_id!r}{hint}; the waves are: {', '.join(starts)}")
    return starts[wave_id]


def _counts_table(title: str, counts: list[dict[str, Any]]) -> Table:
    table = Table(title=escape(title))
    for column in ("Message", "Audience", "Language", "Channel"):
        table.add_column(column)
    table.add_column("Count", justify="right")
    for row in counts:
        table.add_row(
            row["message"],
            row["audience"],
            row["language"],
            row["channel"],
            counting.reach(row["channel"], row["count"]),
        )
    return table


def _channels(bundle: Bundle, wave_id: str, counts: list[dict[str, Any]]) -> str:
    """The wave's counts per channel, in the words `status` uses too (frontends/cli/counting.py)."""
    people: dict[str, int] = {}
    for row in counts:
        people[row["channel"]] = people.get(row["channel"], 0) + row["count"]
    return counting.per_channel(people, Counter(platform for _, _, platform in post_segments(bundle, wave_id)))


def _print_coverage(spec: Campaign, cover: Coverage) -> None:
    languages = list(spec.campaign.languages)
    table = Table(title=f"Audiences on {cover.on.isoformat()} (eligible contacts)")
    table.add_column("Audience")
    for lang in languages:
        table.add_column(lang, justify="right")
    table.add_column("total", justify="right")
    for audience, counts in cover.audiences.items():
        table.add_row(audience, *(str(counts.get(lang, 0)) for lang in languages), str(sum(counts.values())))
    out.print(table)
    overlaps = Table(title="Overlaps (contacts in both audiences)")
    overlaps.add_column("Audience")
    overlaps.add_column("and audience")
    overlaps.add_column("both", justify="right")
    for audience, others in cover.overlaps.items():
        for other, count in others.items():
            overlaps.add_row(audience, other, str(count))
    out.print(overlaps)
    out.print(
        f"contacts {cover.contacts}: eligible {cover.eligible}, unsubscribed {cover.unsubscribed}, "
        f"suppressed {cover.suppressed}, left this campaign {cover.left_campaign}, paused {cover.paused}\n"
        f"in no audience: {cover.no_audience}\n"
        f"only in a campaign-wide audience (no message aimed at them): {cover.only_citizens}"
    )


@app.command("audiences")
def audiences_command(
    directory: Path | None = DirArg,
    campaign: Path | None = CampaignOpt,
    wave: str | None = typer.Option(None, "--wave", help="Also show who gets which message in this wave."),
    on: dt.datetime | None = typer.Option(
        None,
        "--date",
        formats=["%Y-%m-%d"],
        show_default=False,
        help="Date at which ages and founding dates are read (default: the wave's, or the first wave's).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Counts per audience and language, overlaps, and who no audience reaches (niemand wordt vergeten)."""
    directory = campaign_dir(directory, campaign)
    bundle = open_bundle(directory, render=False)
    spec = bundle.spec
    start = _wave_start(spec, wave) if wave else None
    day = on.date() if on else (start or min(resolve_starts(spec).values())).date()
    with get_engine().connect() as conn:
        cover = coverage(conn, spec, day)
        if wave and start:
            cover.wave = wave_breakdown(conn, spec, wave, start)
    if as_json:
        print(json.dumps(cover.as_json(), ensure_ascii=False, indent=2))
        return
    _print_coverage(spec, cover)
    if cover.wave is not None:
        w = cover.wave
        channels = _channels(bundle, w["id"], w["counts"])
        out.print(_counts_table(f"Wave {w['id']} ({w['start']}): {channels}", w["counts"]))
        out.print(counting.LEGEND)


@app.command("forecast")
def forecast_command(
    directory: Path | None = DirArg,
    campaign: Path | None = CampaignOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    as_of: str | None = AsOfOpt,
) -> None:
    """For every wave: when it starts and how many messages go out per audience x language x channel."""
    directory = campaign_dir(directory, campaign)
    bundle = open_bundle(directory, render=False)
    spec = bundle.spec
    reference = today(as_of, spec.campaign.tz)
    with get_engine().connect() as conn:
        waves = forecast(conn, spec)
    warn_past(reference, {w.wave_id: w.start for w in waves})
    if as_json:
        print(json.dumps({"waves": [w.as_json() for w in waves]}, ensure_ascii=False, indent=2))
        return
    for w in waves:
        local = w.start.strftime("%a %d %b %Y %H:%M %Z")
        utc = w.start.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        counts = [c.as_json() for c in w.counts]
        channels = _channels(bundle, w.wave_id, counts)
        when = f"{reference.standing(w.start)} ({reference.label()})"
        out.print(_counts_table(f"{w.wave_id}: {local} ({utc}), {when}: {channels}", counts))
    out.print(counting.LEGEND)
