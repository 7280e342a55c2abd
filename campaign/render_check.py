"""Validation renders everything: every wave x audience x language x channel, once.

Template errors, sandbox escapes, personal fields used where they cannot be filled in,
unsafe header values, missing images and alt text, newsletters Gmail would clip and posts
over a platform's limit all come back as FILE:LINE problems. The renders are kept (see
``campaign.segment``), so the preview and the workers reuse them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from campaign.bundle import Bundle
from campaign.errors import InvalidInput, Problem
from campaign.mime import UnsafeHeader, check_address, check_field, check_header
from campaign.render import PERSONAL_FIELDS
from campaign.segment import render_matrix


def _per_language(path: tuple[Any, ...], value: str | dict[str, str] | None) -> list[tuple[tuple[Any, ...], str]]:
    """A header value given once or per language, as (path, value) pairs to check."""
    if value is None:
        return []
    if isinstance(value, str):
        return [(path, value)]
    return [((*path, lang), text) for lang, text in value.items()]


def _header_problems(bundle: Bundle) -> list[Problem]:
    info = bundle.spec.campaign
    found = []
    checks: list[tuple[tuple[Any, ...], Callable[[], object]]] = [
        (("campaign", "sender", "address"), lambda: check_address("sender address", info.sender.address)),
    ]
    for path, value in _per_language(("campaign", "sender", "name"), info.sender.name):
        checks.append((path, partial(check_header, "sender name", value)))
    for path, value in _per_language(("campaign", "sender", "reply_to"), info.sender.reply_to):
        checks.append((path, partial(check_address, "reply-to address", value)))
    for path, check in checks:
        try:
            check()
        except UnsafeHeader as exc:
            found.append(bundle.source.problem(path, str(exc)))
    for index, audience in enumerate(bundle.spec.audiences):
        for name, value in audience.sample.items():
            path = ("audiences", index, "sample", name)
            if name not in PERSONAL_FIELDS:
                found.append(
                    bundle.source.problem(
                        path,
                        f"sample field {name!r} is not a personal field; use {', '.join(PERSONAL_FIELDS)}",
                        key=True,
                    )
                )
                continue
            try:
                check_field(f"sample {name}", value)
            except UnsafeHeader as exc:
                found.append(bundle.source.problem(path, str(exc)))
    return found


def check_rendering(bundle: Bundle, done: Callable[[int, int], None] | None = None) -> list[Problem]:
    """Render the whole matrix and report every problem found, each once."""
    problems = _header_problems(bundle)
    if problems:
        return problems
    return render_matrix(bundle, done).problems


def validated(bundle: Bundle, done: Callable[[int, int], None] | None = None) -> Bundle:
    """The bundle, once every message renders: raises InvalidInput with every problem (the
    loader's warnings too), else returns it with the rendering's warnings added.

    Loading reads files only; this is the step that renders, so a command that checks or sends
    a campaign calls it explicitly."""
    problems = check_rendering(bundle, done)
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(sorted([*bundle.warnings, *problems]))
    return replace(bundle, warnings=tuple(sorted([*bundle.warnings, *problems]))) if problems else bundle
