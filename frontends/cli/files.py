"""Commands on campaign files: validate, plan, schema."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from campaign.errors import WavecastError
from campaign.model import Campaign
from campaign.plan import plan_ics, plan_language, plan_rows
from frontends.cli.app import CampaignOpt, DirArg, app, campaign_dir, open_bundle, out
from frontends.cli.as_of import AsOfOpt, today, warn_past
from frontends.cli.choices import check_picked
from frontends.cli.plan_view import plan_view


@app.command()
def validate(
    directory: Path | None = DirArg,
    campaign: Path | None = CampaignOpt,
    strict: bool = typer.Option(
        False, "--strict", help="Treat warnings (e.g. an audience no wave addresses) as errors."
    ),
) -> None:
    """Check a campaign: YAML, keys, references, languages, schedule, templates. Lists every problem."""
    directory = campaign_dir(directory, campaign)
    bundle = open_bundle(directory, strict=strict)
    spec = bundle.spec
    messages = sum(len(w.messages) for w in spec.waves)
    out.print(
        f"{bundle.campaign_file}: ok: {len(spec.waves)} waves, {messages} messages, "
        f"{len(spec.audiences)} audiences, {len(spec.campaign.languages)} languages, "
        f"{len(bundle.warnings)} warning(s); every message rendered"
    )


@app.command()
def plan(
    directory: Path | None = DirArg,
    campaign: Path | None = CampaignOpt,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of waves."),
    ics: Path | None = typer.Option(None, "--ics", help="Write an iCalendar file, one event per wave."),
    lang: str | None = typer.Option(
        None,
        "--lang",
        help="Language of the table and the calendar, one of the campaign's "
        "(default: English in the table, the campaign's first language in the calendar).",
    ),
    as_of: str | None = AsOfOpt,
) -> None:
    """Show the plan: each wave with its local start, audiences, channels, languages and initiatives."""
    directory = campaign_dir(directory, campaign)
    bundle = open_bundle(directory, render=False)
    check_picked(bundle.spec, lang=lang)
    rows = plan_rows(bundle)
    reference = today(as_of, bundle.spec.campaign.tz)
    warn_past(reference, {r.wave: r.start for r in rows})
    if ics is not None:
        try:
            calendar = plan_ics(bundle, lang)
            ics.write_bytes(calendar)
        except OSError as exc:
            raise WavecastError(f"{ics}: cannot write: {exc.strerror}") from None
        out.print(f"wrote {ics} ({len(rows)} events)")
        if not as_json:
            return
    if as_json:
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return
    spec = bundle.spec
    lang = plan_language(bundle, lang or ("en" if "en" in spec.campaign.languages else None))
    out.print(plan_view(out, spec, rows, lang, reference))


@app.command()
def schema() -> None:
    """Print the JSON Schema of campaign.yaml, for editor completion."""
    document = Campaign.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "wavecast campaign.yaml"
    print(json.dumps(document, indent=2, ensure_ascii=False))
