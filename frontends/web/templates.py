"""The templates of ``templates/web``, rendered with autoescape on.

Apart from the pages so that ``wavecast report --format html`` renders the same report
document without loading the web framework.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "web"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context: Any) -> str:
    """A template of templates/web rendered to text (used by pages and by `wavecast report`)."""
    return _env.get_template(template).render(**context)
