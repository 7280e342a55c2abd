"""Validation of message templates: every template must compile in the sandbox.

The rendering issue widens this to render every wave x audience x language x channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from campaign.errors import Problem

if TYPE_CHECKING:
    from campaign.bundle import Bundle


def check_rendering(bundle: Bundle) -> list[Problem]:
    env = SandboxedEnvironment()
    found = []
    for mf in bundle.messages.values():
        try:
            env.parse(mf.body)
        except TemplateSyntaxError as exc:
            found.append(Problem(mf.path, mf.body_line + (exc.lineno or 1) - 1, 1, f"template: {exc.message}"))
    return found
