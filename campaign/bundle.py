"""A campaign directory loaded whole: campaign.yaml plus every message file it names.

``load_bundle`` reads the files only and raises ``InvalidInput`` with every problem found; on
success the bundle is frozen and complete, and the rest of wavecast works on it, never on dicts.
"""

from __future__ import annotations

import os
from copy import deepcopy
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from campaign.errors import InvalidInput, Problem, rel
from campaign.files import TEXT_LIMIT, Refused, Where, campaign_path, read_campaign_file, read_regular
from campaign.load import MAX_FILE_BYTES, Source, decode_text, parse_yaml
from campaign.loaded_campaign import Bundle
from campaign.model import Campaign, MessageFile, MessageText
from campaign.validate import check_bundle

CAMPAIGN_FILE = "campaign.yaml"
MESSAGES_DIR = "messages"


def pydantic_problems(exc: ValidationError, source: Source, prefix: tuple[Any, ...] = ()) -> list[Problem]:
    """Turn pydantic's errors into FILE:LINE:COLUMN problems at the offending key or value."""
    problems = []
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        on_key = bool(loc) and loc[-1] == "[key]"  # a mapping's key was refused (a language code...)
        path = _document_path(loc[:-1] if on_key else loc, source, prefix)
        where = ".".join(str(x) for x in path) or "(document)"
        kind = err["type"]
        if on_key:
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(source.problem(path, f"{where}: {msg}", key=True))
        elif kind == "extra_forbidden" and path:
            problems.append(source.problem(path, f"unknown key {str(path[-1])!r}", key=True))
        elif kind == "missing":
            problems.append(source.problem(path[:-1], f"{where}: required key missing"))
        else:
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(source.problem(path, f"{where}: {msg}"))
    return problems


def _document_path(loc: tuple[Any, ...], source: Source, prefix: tuple[Any, ...]) -> tuple[Any, ...]:
    """Drop the union-member names pydantic puts in `loc` ('datetime', 'After'...): keep keys that exist."""
    path: tuple[Any, ...] = tuple(prefix)
    for i, element in enumerate(loc):
        candidate = (*path, element)
        if candidate in source.values or i == len(loc) - 1:
            path = candidate
    return path


def shown(root: Path, name: str) -> str:
    """A campaign file as messages name it: the campaign directory, then the name as written
    (a symbolic link is not followed, so a message never shows where a link points)."""
    return str(Path(rel(root)) / name)


def _split_front_matter(text: str) -> tuple[str, str, int] | None:
    """Return (front matter, body, body's first line) for a file that starts with '---'."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "\n".join(lines[1:i]), "\n".join(lines[i + 1 :]), i + 2
    return None


def load_message_file(
    root: Path, name: str, where: Where, lang: str, source_lang: str
) -> tuple[MessageFile | None, Source | None, list[Problem]]:
    """One message file of the campaign; a refused read is reported at `where`, the key that named it."""
    raw, problems = read_campaign_file(root, name, where, TEXT_LIMIT)
    if raw is None:
        return None, None, problems
    display = shown(root, name)
    text, problems = decode_text(raw, display)
    if text is None:
        return None, None, problems
    parts = _split_front_matter(text)
    if parts is None:
        return (
            None,
            None,
            [
                Problem(
                    display,
                    1,
                    1,
                    "a message file starts with '---', its front matter (subject, preheader...), "
                    "then '---' and the body",
                )
            ],
        )
    front, body, body_line = parts
    data, source, problems = parse_yaml(front, display, line_offset=1)
    if problems:
        return None, source, problems
    if not isinstance(data, dict):
        return None, source, [Problem(display, 2, 1, "front matter must be a mapping (subject: ..., preheader: ...)")]
    try:
        meta = MessageText.model_validate(data)
    except ValidationError as exc:
        return None, source, pydantic_problems(exc, source)
    if not body.strip():
        return None, source, [Problem(display, body_line, 1, "message body is empty")]
    mf = MessageFile.model_validate(
        {"path": display, "lang": lang, "text": meta, "body": body, "body_line": body_line, "source_lang": source_lang}
    )
    return mf, source, []


def load_spec(root: Path) -> tuple[Campaign, Source]:
    """Load and type-check campaign.yaml only."""
    spec, source, problems, _stand_in = _checked_spec(root)
    if problems:
        raise InvalidInput(problems)
    assert spec is not None
    return spec, source


def _checked_spec(root: Path) -> tuple[Campaign | None, Source, list[Problem], bool]:
    """campaign.yaml type-checked, with its schema problems. When only optional keys are wrong,
    a stand-in spec without them comes back too (last value True), so that validation can go on
    to the references and files and list every problem in one run; raises InvalidInput when
    nothing can be checked further."""
    display = shown(root, CAMPAIGN_FILE)
    if not root.is_dir():
        raise InvalidInput([Problem(rel(root), 1, 1, "not a campaign directory")])
    try:
        raw = read_regular(campaign_path(root, CAMPAIGN_FILE), MAX_FILE_BYTES)
    except Refused as exc:
        raise InvalidInput([Problem(display, 1, 1, str(exc))]) from None
    text, problems = decode_text(raw, display)
    if text is None:
        raise InvalidInput(problems)
    data, source, problems = parse_yaml(text, display)
    if problems:
        raise InvalidInput(problems)
    if not isinstance(data, dict):
        raise InvalidInput(
            [
                Problem(
                    display,
                    1,
                    1,
                    "campaign.yaml must be a mapping with schema_version, campaign, ambitions, audiences, waves",
                )
            ]
        )
    if "schema_version" in data and data["schema_version"] != 1:
        raise InvalidInput(
            [
                source.problem(
                    ("schema_version",),
                    f"schema_version {data['schema_version']!r} is not supported; this wavecast reads version 1",
                )
            ]
        )
    try:
        return Campaign.model_validate(data), source, [], False
    except ValidationError as exc:
        problems = pydantic_problems(exc, source)
        stand_in = _without_wrong_keys(data, exc, source)
        if stand_in is None:
            raise InvalidInput(problems) from None
        return stand_in, source, problems, True


def _without_wrong_keys(data: dict[str, Any], exc: ValidationError, source: Source) -> Campaign | None:
    """The campaign with every refused mapping key left out, if that makes it valid (the keys
    were optional: a time zone, a send window...); None otherwise. Only keys are dropped, never
    list items, so every other value keeps its path and its FILE:LINE:COLUMN."""
    copy = deepcopy(data)
    for err in exc.errors(include_url=False):
        loc = err["loc"]
        path = _document_path(loc[:-1] if loc and loc[-1] == "[key]" else loc, source, ())
        if not path:
            return None
        parent: Any = copy
        for element in path[:-1]:
            try:
                parent = parent[element]
            except (KeyError, IndexError, TypeError):
                return None
        if not isinstance(parent, dict) or path[-1] not in parent:
            return None
        del parent[path[-1]]
    try:
        return Campaign.model_validate(copy)
    except ValidationError:
        return None


def load_bundle(root: Path | str) -> Bundle:
    """Load a campaign directory and check every cross-reference. Raises InvalidInput.

    Files only: no database is read and nothing is rendered. A wave gets the approved
    initiative requests where it is assembled (``waves.assembly``); rendering every message
    is validation's own step (``campaign.render_check.validated``)."""
    bundle, problems = read_bundle(root)
    if any(p.severity == "error" for p in problems):
        raise InvalidInput(problems)
    return replace(bundle, warnings=tuple(sorted(problems)))


def read_bundle(root: Path | str) -> tuple[Bundle, list[Problem]]:
    """The campaign as far as its files hold it, and every problem found (errors included), so
    a caller that checks more can report everything at once. Raises InvalidInput only when
    campaign.yaml itself cannot be read; the bundle may lack the message files that failed."""
    root = Path(root)
    spec, source, problems, stand_in = _checked_spec(root)
    assert spec is not None
    messages: dict[tuple[str, str], MessageFile] = {}
    message_sources: dict[str, Source] = {}
    seen: set[str] = set()
    for wi, wave in enumerate(spec.waves):
        for mi, message in enumerate(wave.messages):
            if message.template in seen:
                continue
            seen.add(message.template)
            key = ("waves", wi, "messages", mi, "template")
            where = (source.file, *source.locate(key))
            try:
                campaign_path(root, f"{MESSAGES_DIR}/{message.template}")
            except Refused as exc:
                problems.append(source.problem(key, f"template {message.template!r}: {exc}"))
                continue
            for lang in spec.campaign.languages:
                found_lang = lang
                name = f"{MESSAGES_DIR}/{message.template}.{lang}.md"
                fallback = spec.campaign.fallbacks.get(lang)
                if not os.path.lexists(root / name) and fallback is not None:
                    found_lang = fallback
                    name = f"{MESSAGES_DIR}/{message.template}.{fallback}.md"
                if not os.path.lexists(root / name):
                    problems.append(
                        source.problem(
                            key,
                            f"missing {lang} text for message {message.id!r}: expected {shown(root, name)}"
                            + ("" if fallback is None else f" (or its fallback {fallback})"),
                        )
                    )
                    continue
                mf, msource, found = load_message_file(root, name, where, lang, found_lang)
                problems.extend(found)
                if msource is not None:
                    message_sources[shown(root, name)] = msource
                if mf is not None:
                    messages[(message.template, lang)] = mf
    bundle = Bundle(root=root, spec=spec, source=source, messages=messages, message_sources=message_sources)
    problems.extend(check_bundle(bundle, partial=stand_in))
    return bundle, problems
