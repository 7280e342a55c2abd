"""`wavecast report`: what each wave achieved, as a table, CSV, JSON or an HTML page with charts.

Named `reports` because a submodule `report` would replace `frontends.cli.report()` (the problem printer).
"""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.table import Table

from accounts.models import INTERFACE_LANGUAGES
from campaign.channel_ids import NEWSLETTER
from campaign.db import get_engine
from campaign.errors import WavecastError
from frontends.cli.app import CampaignOpt, DirArg, app, campaign_dir, open_bundle, out
from frontends.cli.choices import check_picked
from frontends.cli.progress import counting, working
from frontends.web.i18n import say, speaking
from frontends.web.templates import render
from waves.report import REPORT_STEPS, build_report


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    html = "html"


CSV_COLUMNS = ("section", "wave", "audience", "language", "channel", "ambition", "item", "metric", "value")
SEGMENT_METRICS = ("planned", "sent", "failed", "skipped", "pending", "unsubscribed_7d", "posts", "published")
MAIL_LABELS = {
    "delivered": "delivered",
    "hard_bounces": "hard bounces",
    "soft_bounces": "soft bounces",
    "complaints": "complaints",
    "unsubscribes": "unsubscribed ≤ 7 d",
    "suppressed_before_sending": "suppressed before sending",
}
MAIL_SHORT = ("delivered", "hard", "soft", "complaints", "unsub", "suppr.")


def csv_rows(report: Any) -> list[dict[str, Any]]:
    """One long table (one figure per row), so every section fits the same columns."""
    rows: list[dict[str, Any]] = []
    for s in report.segments:
        for metric in SEGMENT_METRICS:
            rows.append(
                {
                    "section": "segment",
                    "wave": s.wave,
                    "audience": s.audience,
                    "language": s.language,
                    "channel": s.channel,
                    "metric": metric,
                    "value": getattr(s, metric),
                }
            )
    for m in report.deliverability:
        where = {"section": "deliverability", "wave": m.wave, "audience": m.audience, "language": m.language}
        rows.append({**where, "channel": NEWSLETTER, "metric": "planned", "value": m.planned})
        rows.append({**where, "channel": NEWSLETTER, "metric": "emails_sent", "value": m.emails})
        for metric in MAIL_LABELS:
            rows.append({**where, "channel": NEWSLETTER, "metric": metric, "value": getattr(m, metric)})
            rate = m.rate(metric)
            value = "" if rate is None else round(rate, 4)
            rows.append({**where, "channel": NEWSLETTER, "metric": f"{metric}_rate", "value": value})
    for a in report.ambitions:
        rows.append({"section": "ambition", "ambition": a.id, "metric": "reached", "value": a.reached})
        rows.append({"section": "ambition", "ambition": a.id, "metric": "waves", "value": " ".join(a.waves)})
        for title in a.initiatives:
            rows.append({"section": "ambition", "ambition": a.id, "item": title, "metric": "initiative", "value": 1})
        for k in a.kpis:
            rows.append({"section": "kpi", "ambition": a.id, "item": k.id, "metric": "target", "value": k.target})
    for c in report.coverage:
        for metric, value in (("members", c.members), ("reached", c.reached), ("coverage", round(c.share, 4))):
            rows.append({"section": "coverage", "audience": c.audience, "metric": metric, "value": value})
    for c in report.clicks:
        rows.append(
            {
                "section": "clicks",
                "wave": c["wave"],
                "audience": c["audience"],
                "language": c["language"],
                "item": c["link"],
                "metric": "clicks",
                "value": c["clicks"],
            }
        )
    for x in report.subscriptions:
        rows.append(
            {
                "section": "subscriptions",
                "language": x["language"],
                "item": x["interest"],
                "metric": x["event"],
                "value": x["count"],
            }
        )
    return rows


def to_csv(report: Any) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, CSV_COLUMNS, restval="", lineterminator="\n")
    writer.writeheader()
    for row in csv_rows(report):
        # A cell starting with = + - @ would be a formula in a spreadsheet.
        writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@" else v) for k, v in row.items()})
    return buffer.getvalue()


def to_html(report: Any, language: str = "en") -> str:
    """The report document, its own words in `language` (the web app's: en, nl or fr)."""
    # Lazy: matplotlib (~0.5 s) is for the HTML report only; every other command goes without it.
    from waves.charts import report_charts

    with speaking(language):
        charts = report_charts(report, say)
    return render("report_document.html", language=language, report=report, charts=charts)


def _with_rate(line: Any, metric: str) -> str:
    """The count over its rate: two short lines keep the table inside 80 columns."""
    shown = line.percent(metric)
    return f"{getattr(line, metric)}" + (f"\n{shown}%" if shown else "")


def _tables(report: Any) -> list[Table]:
    segments = Table(title=f"{report.name}: per wave, audience, language and channel")
    for column in ("Wave", "Audience", "Lang", "Channel", *[m.replace("_", " ") for m in SEGMENT_METRICS]):
        segments.add_column(column, justify="left" if column[0].isupper() else "right")
    for s in report.segments:
        segments.add_row(s.wave, s.audience, s.language, s.channel, *[str(getattr(s, m)) for m in SEGMENT_METRICS])
    if not report.segments:
        segments.caption = "no wave has been launched yet"
    ambitions = Table("Ambition", "Initiatives", "Waves", "Reached", "KPIs (targets)", title="Per ambition")
    for a in report.ambitions:
        ambitions.add_row(
            f"{a.number}. {a.title}",
            "\n".join(a.initiatives) or "-",
            ", ".join(a.waves) or "-",
            str(a.reached),
            "\n".join(f"{k.title}: {k.target}" for k in a.kpis),
        )
    # One column for the segment and two-line cells (count over rate) keep it within 80 columns.
    mail = Table(
        title="E-mail deliverability: counts, and their share of the e-mails sent (suppressed: of planned)",
        box=box.SIMPLE_HEAVY,
        pad_edge=False,
    )
    mail.add_column("Segment", min_width=11)
    for column in ("sent", *MAIL_SHORT):
        mail.add_column(column, justify="right")
    lines = list(report.deliverability)
    if len(lines) > 1:
        lines.append(report.deliverability_total())
    for m in lines:
        figures = [_with_rate(m, metric) for metric in MAIL_LABELS]
        segment = f"{m.wave}\n{m.audience} {m.language}" if m.wave else "all"
        mail.add_row(segment, str(m.emails), *figures)
    mail.caption = (
        "hard, soft: bounces; unsub: recipients who unsubscribed within 7 days of the wave's launch; "
        "suppr.: suppressed before sending"
        if report.deliverability
        else "no e-mail has been planned yet"
    )
    coverage = Table("Audience", "Contacts now", "Reached", "Coverage", title="Coverage per audience")
    for c in report.coverage:
        coverage.add_row(c.audience, str(c.members), str(c.reached), f"{c.share:.1%}")
    tables = [segments, mail, ambitions, coverage]
    if report.clicks:
        clicks = Table("Wave", "Audience", "Lang", "Link", "Clicks", title="Clicks")
        for c in report.clicks:
            clicks.add_row(c["wave"], c["audience"], c["language"], c["link"], str(c["clicks"]))
        tables.append(clicks)
    if report.subscriptions:
        subscriptions = Table("Event", "Lang", "Interest", "Count", title="Subscriptions and preference changes")
        for x in report.subscriptions:
            subscriptions.add_row(x["event"], x["language"], x["interest"] or "-", str(x["count"]))
        tables.append(subscriptions)
    return tables


@app.command()
def report(
    directory: Path | None = DirArg,
    campaign: Path | None = CampaignOpt,
    wave: str | None = typer.Option(
        None, "--wave", help="Only this wave's figures (ambitions and coverage stay campaign-wide)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table, csv, json or html (with charts)."),
    out_file: Path | None = typer.Option(None, "--out", help="Write to this file instead of the terminal."),
    lang: str = typer.Option("en", "--lang", help="Language of titles."),
    language: str = typer.Option(
        "en", "--language", help="Language of the HTML report's own words (headings, charts): en, nl or fr."
    ),
) -> None:
    """What each wave achieved: counts per wave × audience × language × channel, per ambition, coverage."""
    if language not in INTERFACE_LANGUAGES:
        raise WavecastError(f"--language {language}: the report is written in {', '.join(INTERFACE_LANGUAGES)}")
    directory = campaign_dir(directory, campaign)
    bundle = open_bundle(directory, render=False)
    check_picked(bundle.spec, wave=wave)
    with counting("counting the report", total=REPORT_STEPS) as done, get_engine().connect() as conn:
        result = build_report(conn, bundle, wave, lang, done=done)
    if fmt is Format.table:
        if out_file is not None:
            raise WavecastError("--out needs --format csv, json or html")
        for table in _tables(result):
            out.print(table)
        return
    with working(f"writing the {fmt.value} report"):
        text = {
            Format.csv: to_csv,
            Format.json: lambda r: json.dumps(r.as_json(), ensure_ascii=False, indent=2) + "\n",
            Format.html: lambda r: to_html(r, language),
        }[fmt](result)
    if out_file is None:
        print(text, end="")
        return
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise WavecastError(f"{out_file}: cannot write: {exc.strerror}") from None
    out.print(f"wrote {out_file} ({fmt.value})")
