"""English text that a page can say in another language.

wavecast's own words from below the front ends (a preflight check's findings, a chart's title,
the suppression line) are ``Phrase`` objects: the English, as a plain ``str`` (so the command
line, the logs and the JSON answers read it as they always did), that also keeps its message
(``%(name)s`` fields) and the fields' values. The web app looks the message up in its
catalogue and fills the fields in at render time; ``Phrase("...")`` is the marker its
extraction looks for, so the lower layers need nothing of the front ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from typing import Any


class Phrase(str):
    """``Phrase("%(n)d e-mails/s", n=10)`` is the string "10 e-mails/s" that remembers how it was
    made. A field may itself be a Phrase: it is then said in the page's language too; a tuple
    field is a list, its items said one by one and joined with commas."""

    message: str
    fields: dict[str, Any]

    def __new__(cls, message: str, **fields: Any) -> Phrase:
        english = {k: ", ".join(map(str, v)) if isinstance(v, tuple) else v for k, v in fields.items()}
        said = super().__new__(cls, message % english if fields else message)
        said.message = message
        said.fields = fields
        return said


def in_turn(phrases: Sequence[str]) -> str:
    """Several findings in one line, separated by semicolons (as each language writes one)."""
    return reduce(lambda first, then: Phrase("%(first)s; %(then)s", first=first, then=then), phrases)
