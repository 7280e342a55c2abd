"""The language a browser asks for most (Accept-Language, RFC 9110 section 12.5.4), among some."""

from __future__ import annotations

from collections.abc import Collection, Sequence

MAX_HEADER = 1000  # an Accept-Language longer than this is read only this far
MAX_PARTS = 32


def campaign_language(header: str | None, languages: Sequence[str]) -> str:
    """The campaign language a reader's browser asks for most, else the campaign's first: a
    public page speaks the campaign's languages, whichever they are, not the web app's."""
    return preferred(header, languages) or languages[0]


def preferred(header: str | None, available: Collection[str]) -> str | None:
    """The available language with the highest weight (q-values honoured; on equal weights the
    browser's order stands), by primary subtag; None when the browser asks for none of them."""
    best, best_q = None, 0.0
    for part in (header or "")[:MAX_HEADER].split(",")[:MAX_PARTS]:
        tag, _, params = part.partition(";")
        language = tag.strip().split("-")[0].lower()
        if language not in available:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if 0.0 < quality <= 1.0 and quality > best_q:
            best, best_q = language, quality
    return best
