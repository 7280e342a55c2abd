"""The report's charts as inline SVG: reach per audience per wave, language split, delivery status.

matplotlib with the Agg/SVG canvases and its object API (no pyplot: no global state, so the
web app can draw in several threads). Text stays text in the SVG (``svg.fonttype: none``), so
the charts are small, sharp and readable by screen readers; each chart also comes with the
table of its figures in the report. Output is deterministic (no date, fixed ids).
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib import rc_context
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure

from campaign.channel_ids import NEWSLETTER
from campaign.phrase import Phrase
from waves.report import Report

# Figures are drawn on their own canvases; should anything import pyplot, it must not look for a display.
matplotlib.use("Agg")

# Colour-blind-safe palette (Okabe-Ito), dark enough against white for the 3:1 of WCAG 1.4.11.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C6D00")
STATUS_WORDS = {
    "sent": Phrase("sent"),
    "failed": Phrase("failed"),
    "skipped": Phrase("skipped"),
    "pending": Phrase("pending"),
}
STATUS_COLOURS = {"sent": "#009E73", "failed": "#D55E00", "skipped": "#8C8C8C", "pending": "#0072B2"}
_STYLE: Any = {
    "svg.fonttype": "none",
    "svg.hashsalt": "wavecast",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

# Puts a phrase in the reader's language.
Say = Callable[[Phrase], str]


@dataclass(frozen=True)
class Chart:
    id: str
    title: Phrase
    description: Phrase
    svg: str


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    FigureCanvasSVG(figure).print_svg(buffer, metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    start = text.find("<svg")
    svg = text[start:] if start >= 0 else text
    # Scale with its container (the report must read on a phone) while keeping the aspect ratio.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 width="100%"', svg, count=1)


def _figure(width: float = 7.0, height: float = 3.4) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure


def _empty(figure: Figure, message: str) -> None:
    axes = figure.add_subplot()
    axes.axis("off")
    axes.text(0.5, 0.5, message, ha="center", va="center")


def reach_chart(report: Report, say: Say = str) -> Chart:
    """Newsletters sent per wave, one bar per audience."""
    sent: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    audiences: dict[str, None] = {}
    for s in report.segments:
        if s.channel == NEWSLETTER:
            sent[s.wave][s.audience] += s.sent
            audiences.setdefault(s.audience)
    waves = [w.id for w in report.waves if w.id in sent]
    with rc_context(_STYLE):
        figure = _figure()
        if not waves:
            _empty(figure, say(Phrase("No newsletter has been sent yet")))
        else:
            axes = figure.add_subplot()
            width = 0.8 / max(len(audiences), 1)
            for i, audience in enumerate(audiences):
                xs = [w + (i - (len(audiences) - 1) / 2) * width for w in range(len(waves))]
                axes.bar(xs, [sent[w][audience] for w in waves], width, label=audience, color=PALETTE[i % len(PALETTE)])
            axes.set_xticks(range(len(waves)), waves)
            axes.set_ylabel(say(Phrase("newsletters sent")))
            axes.legend(
                fontsize=8, ncols=min(4, len(audiences)), loc="upper left", bbox_to_anchor=(0, -0.12), frameon=False
            )
        svg = _svg(figure)
    return Chart(
        "reach", Phrase("Reach per audience per wave"), Phrase("Newsletters sent in each wave, per audience."), svg
    )


def language_chart(report: Report, say: Say = str) -> Chart:
    """Newsletters sent per language."""
    sent: dict[str, int] = defaultdict(int)
    for s in report.segments:
        if s.channel == NEWSLETTER:
            sent[s.language] += s.sent
    languages = [lang for lang in sent if sent[lang]]
    with rc_context(_STYLE):
        figure = _figure(5.0, 2.6)
        if not languages:
            _empty(figure, say(Phrase("No newsletter has been sent yet")))
        else:
            axes = figure.add_subplot()
            bars = axes.barh(
                languages,
                [sent[x] for x in languages],
                color=[PALETTE[i % len(PALETTE)] for i in range(len(languages))],
            )
            axes.bar_label(bars, padding=3)
            axes.invert_yaxis()
            axes.set_xlabel(say(Phrase("newsletters sent")))
        svg = _svg(figure)
    return Chart("languages", Phrase("Language split"), Phrase("Newsletters sent per language."), svg)


def status_chart(report: Report, say: Say = str) -> Chart:
    """Ledger rows per wave by delivery status, stacked."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for s in report.segments:
        for status in STATUS_COLOURS:
            totals[s.wave][status] += getattr(s, status)
    waves = [w.id for w in report.waves if sum(totals[w.id].values())]
    with rc_context(_STYLE):
        figure = _figure(7.0, 3.0)
        if not waves:
            _empty(figure, say(Phrase("No wave has been launched yet")))
        else:
            axes = figure.add_subplot()
            left = [0] * len(waves)
            for status, colour in STATUS_COLOURS.items():
                values = [totals[w][status] for w in waves]
                axes.barh(waves, values, left=left, color=colour, label=say(STATUS_WORDS[status]))
                left = [a + b for a, b in zip(left, values, strict=True)]
            axes.invert_yaxis()
            axes.set_xlabel(say(Phrase("messages (ledger rows)")))
            axes.legend(fontsize=8, ncols=4, loc="upper left", bbox_to_anchor=(0, -0.25), frameon=False)
        svg = _svg(figure)
    return Chart(
        "status",
        Phrase("Delivery status"),
        Phrase("Ledger rows per wave: sent, failed, skipped and pending."),
        svg,
    )


def report_charts(report: Report, say: Say = str) -> list[Chart]:
    """The three charts; `say` puts the words drawn into them (axes, legends) in the reader's
    language (the web app's translation; English by default)."""
    return [reach_chart(report, say), language_chart(report, say), status_chart(report, say)]
