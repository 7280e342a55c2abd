"""The web app's catalogues: extract its messages, and bring the Dutch and French ones up to date.

    python -m frontends.web.catalogues

reads ``templates/web/*.html`` and ``frontends/web/*.py``, and the ``Phrase("...")`` of the lower
layers' modules that hand text to the pages (``PHRASES`` below: the one list), writes
``frontends/web/locales/messages.pot`` and merges it into each language's ``messages.po``: a
new message arrives empty, a changed one fuzzy, for a translator to fill in. The suite fails
until none is empty or fuzzy (tests/test_web_catalogues.py).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.pofile import read_po, write_po

from accounts.models import INTERFACE_LANGUAGES
from frontends.web.i18n import DEFAULT, KEYWORDS, LOCALES, PHRASE_KEYWORDS, catalogue

ROOT = Path(__file__).resolve().parent.parent.parent
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
# Below the front ends, only Phrase("...") is a message (`_` there is a name like any other).
PHRASES = (
    "accounts/directory.py",
    "accounts/roles.py",
    "campaign/message_edit.py",
    "waves/doctor/*.py",
    "waves/charts.py",
    "audiences/consent.py",
    "waves/approval.py",
    "waves/scheduler.py",
    "campaign/phrase.py",
    "campaign/reschedule.py",
    "campaign/validate.py",
)


def _sources() -> Iterator[tuple[str, Path]]:
    yield from (("jinja2", p) for p in sorted((ROOT / "templates" / "web").glob("*.html")))
    yield from (("python", p) for p in sorted((ROOT / "frontends" / "web").glob("*.py")))
    yield from (("phrases", p) for pattern in PHRASES for p in sorted(ROOT.glob(pattern)))


def extracted() -> Catalog:
    """Every message the web app's pages and routes mark, with where each one is."""
    found = Catalog(project="wavecast", domain="messages", fuzzy=False)
    for method, path in _sources():
        options = JINJA_OPTIONS if method == "jinja2" else {}
        keywords = PHRASE_KEYWORDS if method == "phrases" else {**DEFAULT_KEYWORDS, **KEYWORDS}
        with path.open("rb") as source:
            for line, message, comments, context in extract(
                "python" if method == "phrases" else method, source, keywords, options=options
            ):
                found.add(message, None, [(str(path.relative_to(ROOT)), line)], auto_comments=comments, context=context)
    return found


def update() -> None:
    template = extracted()
    with (LOCALES / "messages.pot").open("wb") as pot:
        write_po(pot, template, width=100, omit_header=False)
    for language in INTERFACE_LANGUAGES:
        if language == DEFAULT:
            continue
        path = catalogue(language)
        if path.exists():
            with path.open("rb") as po:
                translated = read_po(po, locale=language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            translated = Catalog(locale=language, project="wavecast", domain="messages")
        translated.update(template, no_fuzzy_matching=False)
        with path.open("wb") as po:
            write_po(po, translated, width=100, ignore_obsolete=True)
        sys.stdout.write(f"{path.relative_to(ROOT)}: {len(translated)} messages\n")


if __name__ == "__main__":
    update()
