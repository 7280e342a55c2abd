"""Commands on campaign files: validate, plan, schema."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from campaign.errors import WavecastError
from campaign.model import Campaign
from campaign.plan import plan_ics, plan_rows
from frontends.cli.app import DirArg, app, open_bundle, out


@app.command()
def validate(
    directory: Path = DirArg,
    strict: bool = typer.Option(
        False, "--strict", help="Treat warnings (e.g. an audience no wave addresses) as errors."
    ),
) -> None:
    """Check a campaign: YAML, keys, references, languages, schedule, templates. Lists every problem."""
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
    directory: Path = DirArg,
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list of waves."),
    ics: Path | None = typer.Option(None, "--ics", help="Write an iCalendar file, one event per wave."),
    lang: str = typer.Option("en", "--lang", help="Language of titles in the table and calendar."),
) -> None:
    """Show the plan: each wave with its local start, audiences, channels, languages and initiatives."""
    bundle = open_bundle(directory, render=False)
    rows = plan_rows(bundle)
    if ics is not None:
        try:
            ics.write_bytes(plan_ics(bundle, lang))
        except OSError as exc:
            raise WavecastError(f"{ics}: cannot write: {exc.strerror}") from None
        out.print(f"wrote {ics} ({len(rows)} events)")
        if not as_json:
            return
    if as_json:
        print(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return
    spec = bundle.spec
    lang = lang if lang in spec.campaign.languages else spec.campaign.languages[0]
    table = Table(title=f"{spec.campaign.name.get(lang, spec.campaign.id)} ({spec.campaign.timezone})")
    for column in ("Wave", "Local start", "Audiences", "Channels", "Languages", "Initiatives (ambition)"):
        table.add_column(column)
    for row in rows:
        initiatives = "\n".join(
            f"{spec.initiative(i).title.get(lang, i)} "
            f"({spec.ambition(a).number}. {spec.ambition(a).title.get(lang, a)})"
            for i, a in row.initiatives
        )
        table.add_row(
            f"{row.wave}\n{row.title.get(lang, '')}",
            row.start.strftime("%a %d %b %Y %H:%M %Z"),
            ", ".join(row.audiences),
            ", ".join(row.channels),
            ", ".join(row.languages),
            initiatives or "-",
        )
    out.print(table)


@app.command()
def schema() -> None:
    """Print the JSON Schema of campaign.yaml, for editor completion."""
    document = Campaign.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "wavecast campaign.yaml"
    print(json.dumps(document, indent=2, ensure_ascii=False))
