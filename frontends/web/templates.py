"""The templates of ``templates/web``, rendered with autoescape on, in the interface language.

Apart from the pages so that ``wavecast report --format html`` renders the same report
document without loading the web framework. Templates mark their text with ``{% trans %}``,
``_()`` and ``ngettext`` (``frontends.web.i18n``); a value that is a message defined in Python
(a page title, a notice) is translated where it is shown, with the ``translate`` filter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from frontends.web import i18n
from frontends.web.countdown import countdown, countdown_patterns

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "web"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
_env.filters.update(translate=i18n.say, number=i18n.number, when=i18n.when, day=i18n.day, weekday=i18n.weekday)
_env.globals.update(countdown=countdown, countdown_patterns=countdown_patterns)


def render(template: str, *, language: str = i18n.DEFAULT, **context: Any) -> str:
    """A template of templates/web rendered to text (used by pages and by `wavecast report`)."""
    with i18n.speaking(language):
        return _env.get_template(template).render(ui_language=i18n.current(), **context)
