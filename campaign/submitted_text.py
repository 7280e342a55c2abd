"""How a text from outside the team appears: as plain text, never as markup.

Organisations submit initiative requests (``campaign.initiative_requests``); once approved,
their title, description and name reach newsletters through the message templates, whose
bodies are Markdown. A submitted ``[win](https://evil.example)``, ``<b>``, ``<https://…>``
or ``&amp;`` must show as those characters, not become a link, markup or an entity, and the
reviewer must see what the readers will. So one function, ``plain_text``, says how such a
text looks (the review command shows its result), and ``markdown_literal`` makes Markdown
show exactly that.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from typing import Any

_PUNCTUATION = frozenset(string.punctuation)  # CommonMark lets a backslash escape each of these
_SPACES = re.compile(r"\s+")
_INVISIBLE = {"Cc", "Cf", "Co", "Cs", "Cn"}  # control, format (bidi overrides), private, unassigned
_FIELDS = ("title", "summary", "organisation")


def plain_text(text: str) -> str:
    """The text as readers see it: one line, single spaces, no control or invisible characters.

    Line breaks would let a text start a Markdown block (a list, a heading, a code block) and
    bidi overrides would make it read differently from what the reviewer approved.
    """
    visible = "".join(" " if unicodedata.category(c) in _INVISIBLE else c for c in text)
    return _SPACES.sub(" ", visible).strip()


def markdown_literal(text: str) -> str:
    """Markdown that renders as `plain_text(text)`: every ASCII punctuation character escaped.

    Backslash escapes hold in running text, in emphasis and in link destinations alike, so a
    template may write the value anywhere (``**{{ item.title }}**``, ``({{ item.url }})``).
    """
    return "".join("\\" + c if c in _PUNCTUATION else c for c in plain_text(text))


def literal_initiatives(context: Mapping[str, Any]) -> dict[str, Any]:
    """A template context whose initiative texts and links are Markdown literals (for message bodies)."""
    initiatives = [
        {
            **item,
            **{name: markdown_literal(str(item.get(name, ""))) for name in _FIELDS},
            "url": markdown_literal(_no_spaces(str(item.get("url", "")))),
        }
        for item in context.get("initiatives", [])
    ]
    return {**context, "initiatives": initiatives}


def _no_spaces(url: str) -> str:
    """A space ends a Markdown link destination and no backslash escapes it; percent-encode it."""
    return _SPACES.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), url.strip())
