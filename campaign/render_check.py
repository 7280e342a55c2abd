"""Validation renders everything: every wave x audience x language x channel, once.

Template errors, sandbox escapes, personal fields used where they cannot be filled in,
unsafe header values, missing images and alt text, newsletters Gmail would clip and posts
over a platform's limit all come back as FILE:LINE problems. The renders are kept (see
``campaign.segment``), so the preview and the workers reuse them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from campaign.bundle import Bundle
from campaign.errors import InvalidInput, Problem
from campaign.mime import UnsafeHeader, check_address, check_field, check_header
from campaign.render import PERSONAL_FIELDS
from campaign.segment import render_matrix


def _header_problems(bundle: Bundle) -> list[Problem]:
    info = bundle.spec.campaign
    found = []
    checks: list[tuple[tuple[Any, ...], Callable[[], object]]] = [
        (("campaign", "sender", "name"), lambda: check_header("sender name", info.sender.name)),
        (("campaign", "sender", "address"), lambda: check_address("sender address", info.sender.address)),
    ]
    if info.sender.reply_to is not None:
        reply_to = info.sender.reply_to
        checks.append((("campaign", "sender", "reply_to"), lambda: check_address("reply-to address", reply_to)))
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


def check_rendering(bundle: Bundle) -> list[Problem]:
    """Render the whole matrix and report every problem found, each once."""
    problems = _header_problems(bundle)
    if problems:
        return problems
    return render_matrix(bundle).problems


def validated(bundle: Bundle) -> Bundle:
    """The bundle, once every message renders: raises InvalidInput with every problem (the
    loader's warnings too), else returns it with the rendering's warnings added.

    Loading reads files only; this is the step that renders, so a command that checks or sends
    a campaign calls it explicitly."""
    problems = check_rendering(bundle)
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(sorted([*bundle.warnings, *problems]))
    return replace(bundle, warnings=tuple(sorted([*bundle.warnings, *problems]))) if problems else bundle
