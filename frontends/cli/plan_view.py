"""The plan on a terminal: one table when it fits, one block per wave when the terminal is narrow.

Seven columns squeezed into 80 characters wrap every cell into a few letters per line; below the
width the table needs, each wave becomes a short block of labelled lines instead, which reads
well at any width. The wide table comes back as soon as the terminal allows it.
"""

from __future__ import annotations

from rich import box
from rich.cells import cell_len as cell_width
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from campaign.as_of import Today
from campaign.model import Campaign
from campaign.plan import PlanRow

START_FORMAT = "%a %d %b %Y %H:%M %Z"
COLUMN_WIDTH = 32  # "Title (n. ambition)" or a list of channels wraps in two or three lines


def _initiatives(spec: Campaign, row: PlanRow, lang: str) -> list[str]:
    return [
        f"{spec.initiative(i).title.get(lang, i)} ({spec.ambition(a).number}. {spec.ambition(a).title.get(lang, a)})"
        for i, a in row.initiatives
    ]


def _title(spec: Campaign, lang: str, reference: Today) -> str:
    return f"{spec.campaign.name.get(lang, spec.campaign.id)} ({spec.campaign.timezone}); when: {reference.label()}"


def wide(spec: Campaign, rows: list[PlanRow], lang: str, reference: Today) -> Table:
    """Every wave on one row, every field in its column."""
    table = Table(title=_title(spec, lang, reference), box=box.SIMPLE_HEAD, show_edge=False)
    for column in (
        "Wave",
        "Local start",
        "When",
        "Audiences",
        "Channels",
        "Languages",
        "Initiatives (ambition)",
    ):
        table.add_column(column, max_width=COLUMN_WIDTH)
    table.columns[-1].max_width = None  # the initiatives take the room the others leave
    for row in rows:
        table.add_row(
            f"{row.wave}\n{row.title.get(lang, '')}",
            row.start.strftime(START_FORMAT),
            reference.standing(row.start),
            ", ".join(row.audiences),
            ", ".join(row.channels),
            ", ".join(row.languages),
            "\n".join(_initiatives(spec, row, lang)) or "-",
        )
    return table


def stacked(spec: Campaign, rows: list[PlanRow], lang: str, reference: Today) -> Group:
    """One block per wave: a heading line, then labelled lines that wrap under their value."""
    parts: list[RenderableType] = [Text(_title(spec, lang, reference), style="bold")]
    for row in rows:
        heading = Text()
        heading.append(row.wave, style="bold")
        title = row.title.get(lang, "")
        if title:
            heading.append(f"  {title}")
        block = Table.grid(padding=(0, 1))
        block.add_column(no_wrap=True, style="dim")
        block.add_column(overflow="fold")
        block.add_row("start", f"{row.start.strftime(START_FORMAT)} ({reference.standing(row.start)})")
        block.add_row("audiences", ", ".join(row.audiences))
        block.add_row("channels", ", ".join(row.channels))
        block.add_row("languages", ", ".join(row.languages))
        block.add_row("initiatives", "\n".join(_initiatives(spec, row, lang)) or "-")
        indented = Table.grid(padding=(0, 0, 0, 2))
        indented.add_row(block)
        parts += [Text(""), heading, indented]
    return Group(*parts)


def needed_width(table: Table) -> int:
    """The width at which no cell wraps into more than a few lines: each column as wide as its
    widest line, up to COLUMN_WIDTH (a longer list or title wraps at that width), plus padding."""
    widths = [
        min(COLUMN_WIDTH, max((cell_width(line) for cell in column.cells for line in str(cell).split("\n")), default=0))
        for column in table.columns
    ]
    return sum(widths) + 2 * len(widths)


def plan_view(console: Console, spec: Campaign, rows: list[PlanRow], lang: str, reference: Today) -> RenderableType:
    """The wide table when the console holds it, else the blocks."""
    table = wide(spec, rows, lang, reference)
    return table if needed_width(table) <= console.width else stacked(spec, rows, lang, reference)
