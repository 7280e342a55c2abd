"""`wavecast preview`: one output on the terminal, or the whole matrix as files."""

from __future__ import annotations

import email
import sys
from email import policy
from pathlib import Path

import typer

from campaign.channel_ids import channels
from campaign.errors import WavecastError
from campaign.newsletter import NewsletterSegment
from campaign.preview import sample_message, write_preview
from campaign.segment import render_segment
from frontends.cli.app import CampaignOpt, DirArg, app, campaign_dir, open_bundle, out
from frontends.cli.choices import check_picked
from frontends.cli.progress import counting

HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Content-Language",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "X-Wavecast-Content",
)


@app.command()
def preview(
    directory: Path | None = DirArg,
    campaign: Path | None = CampaignOpt,
    wave: str | None = typer.Option(None, "--wave", help="Wave id."),
    audience: str | None = typer.Option(None, "--audience", help="Audience id."),
    lang: str | None = typer.Option(None, "--lang", help="A language the campaign declares (campaign.languages)."),
    channel: str | None = typer.Option(
        None, "--channel", help=f"A channel the campaign uses; wavecast's are {', '.join(channels())}."
    ),
    html: bool = typer.Option(False, "--html", help="For a newsletter, print the HTML instead of the text part."),
    outdir: Path | None = typer.Option(None, "--out", help="Write the whole matrix and an index.html gallery here."),
    date_format: str | None = typer.Option(
        None,
        "--date-format",
        help="Dates in the scheduler CSVs (with --out): local (default), iso, buffer, hootsuite, "
        "hootsuite-us, or a strftime pattern such as '%d.%m.%Y %H:%M'.",
    ),
) -> None:
    """Show what an audience receives, as a sample contact of that audience would get it.

    With --wave, --audience, --lang and --channel: one output on the terminal. With --out:
    every newsletter (.html, .txt, .eml) and social post (.json) of the campaign, the
    scheduler exports (OUTDIR/social/PLATFORM.LANG.csv, one per account) and OUTDIR/index.html.
    """
    directory = campaign_dir(directory, campaign)
    picked = {"--wave": wave, "--audience": audience, "--lang": lang, "--channel": channel}
    if outdir is not None:
        if any(v is not None for v in picked.values()):
            raise WavecastError("give either --out OUTDIR, or --wave, --audience, --lang and --channel")
        bundle = open_bundle(directory)
        with counting(f"writing into {outdir}", bar=True) as done:
            result = write_preview(bundle, outdir, date_format, done)
        out.print(
            f"wrote {result.files} files to {outdir} ({result.newsletters} newsletters, {result.posts} social posts); "
            f"open {outdir / 'index.html'}"
        )
        return
    if date_format is not None:
        raise WavecastError("--date-format is for the scheduler CSVs: give it with --out OUTDIR")
    missing = [name for name, value in picked.items() if value is None]
    if missing:
        raise WavecastError(
            f"missing {', '.join(missing)}: give --wave, --audience, --lang and --channel, or --out OUTDIR"
        )
    bundle = open_bundle(directory)
    check_picked(bundle.spec, wave=wave, audience=audience, lang=lang, channel=channel)
    output = render_segment(bundle, wave, audience, lang, channel)  # type: ignore[arg-type]
    if isinstance(output, NewsletterSegment):
        if html:
            sys.stdout.write(output.html)
            return
        message = email.message_from_bytes(sample_message(output, bundle), policy=policy.default)
        for name in HEADERS:
            if message[name] is not None:
                sys.stdout.write(f"{name}: {message[name]}\n")
        sys.stdout.write(f"\n{output.text}")
        return
    sys.stdout.write(output.text + "\n\n")
    verdict = "OVER THE LIMIT" if output.over_limit else "ok"
    sys.stdout.write(f"length: {output.length} / {output.limit} ({output.rule}): {verdict}\n")
    if output.hashtag_limit is not None:
        sys.stdout.write(f"hashtags: {output.hashtag_count} / {output.hashtag_limit}\n")
    if output.image_url is not None:
        sys.stdout.write(f"image: {output.image_url}\nalt: {output.image_alt}\n")
    sys.stdout.write(f"scheduled: {output.scheduled_at:%Y-%m-%d %H:%M %Z}\ncontent: {output.content_hash}\n")
