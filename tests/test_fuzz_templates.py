"""Generated message templates (Jinja and Markdown in the body, subject and preheader), then
per-recipient messages with generated personal values.

A template either validates and renders, or fails validation with problems naming a file and a
line; never another exception, never a hang. A personal value either goes into a message,
escaped in its HTML part, or is refused as unsafe for a header.
"""

from __future__ import annotations

import json
import shutil
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput
from campaign.mime import UnsafeHeader
from campaign.segment import render_matrix
from tests.campaign_copy import MINIMAL
from tests.fuzz_cases import EXAMPLES, counter, no_hang

HANG_SECONDS = 30
SAFE = [
    "{{ contact.first_name }}",
    "{{ contact.organisation_name }}",
    "{% for item in initiatives %}- {{ item.title }}\n{% endfor %}",
    "{{ wave.title }}",
    "{% if contact.first_name %}Hi{% endif %}",
    "{{ 7 * 7 }}",
    "{% set x = 'y' %}{{ x }}",
    "{% raw %}{{ not jinja }}{% endraw %}",
    "[a link](https://example.org/page)",
    "![](https://example.org/x.png)",
    "<b>bold</b>",
    "**bold**",
    "_em_",
    "\n# Heading\n",
    "\n---\n",
    "\n```\ncode\n```\n",
    "\n> quote\n",
    "\n| a | b |\n|---|---|\n| 1 | 2 |\n",
    "\n\n",
    "\n- item\n",
    "&amp;",
    "é",
    "Zoë",
    "text ",
    " and more text",
]
RISKY = [
    "{{ contact }}",
    "{{ contact['first_name'] }}",
    "{{ contact.email }}",
    "{{ contact.first_name | upper }}",
    "{% for item in initiatives %}",
    "{% endfor %}",
    "{% if contact.first_name %}",
    "{% endif %}",
    "{% else %}",
    "{{ 'x' * 100000000 }}",
    "{{ range(100000000) | list | length }}",
    "{% for i in range(100000000) %}x{% endfor %}",
    "{{ ''.__class__.__mro__ }}",
    "{{ self }}",
    "{{ lipsum() }}",
    "{{ cycler }}",
    "{{ config }}",
    "{% include 'layout.mjml.j2' %}",
    "{% import 'x' as y %}",
    "{% extends 'x' %}",
    "{% macro m() %}{{ caller() }}{% endmacro %}",
    "{#",
    "#}",
    "{{",
    "}}",
    "{%",
    "%}",
    "{{ campaign.name }}",
    "{{ 1 / 0 }}",
    "{{ undefined_name }}",
    "{{ '%s' % 5 }}",
    "{{ 'a'.format(1) }}",
    "[bad](javascript:alert(1))",
    "[x]({{ contact.first_name }})",
    "![an image](missing.png)",
    "<script>alert(1)</script>",
    "&#x0;",
    "\u202e",
    "\u2028",
    "\t",
    "\r\n",
]
TEXT = [
    "Hello",
    "{{ contact.first_name }}",
    "{{ wave.title }}",
    "{% if x %}",
    "{{",
    "\\n",
    "=?utf-8?b?DQpCY2M6IHg=?=",
    "%0d%0aBcc: x",
    "{{ '\\r\\nBcc: evil@example.org' }}",
    "é",
    "x" * 300,
]
safe, risky = st.sampled_from(SAFE), st.sampled_from(RISKY)
bodies = st.lists(st.one_of(safe, safe, safe, safe, risky, st.text(max_size=12)), max_size=14).map("".join)
plain = st.sampled_from(["Hello", "News", "{{ contact.first_name }}", "{{ wave.title }}", "é"])
printable = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn", "Zl", "Zp")), max_size=10)
lines = st.lists(
    st.one_of(plain, plain, plain, st.sampled_from(TEXT), printable, st.text(max_size=3)), min_size=1, max_size=5
).map("".join)
values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            "O'Brien & Zoë",
            "a\r\nBcc: evil@example.org",
            "=?utf-8?b?DQo=?=",
            "x" * 250,
            "\u2028",
            "{{ 7 * 7 }}",
            "",
        ]
    ),
)


def write_message(directory: Path, name: str, subject: str, preheader: str, body: str) -> None:
    # JSON strings are YAML double-quoted scalars: the front matter stays well-formed.
    (directory / "messages" / "hello" / name).write_text(
        f"---\nsubject: {json.dumps(subject, ensure_ascii=False)}\n"
        f"preheader: {json.dumps(preheader, ensure_ascii=False)}\n"
        'cta: {label: "Read more", url: "https://example.org/en"}\nsocial:\n  default: "A post."\n---\n'
        f"{body}\n",
        encoding="utf-8",
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    body=bodies,
    subject=lines,
    preheader=lines,
    name=st.sampled_from(["all.en.md", "youth.nl.md"]),
    first_name=values,
    organisation=values,
)
def test_any_template_validates_or_names_its_line(
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    body: str,
    subject: str,
    preheader: str,
    name: str,
    first_name: str,
    organisation: str,
) -> None:
    counter(request.config, "message templates")["message templates"] += 1
    directory = tmp_path_factory.mktemp("tpl") / "minimal"
    shutil.copytree(MINIMAL, directory)
    write_message(directory, name, subject, preheader, body)
    with no_hang(HANG_SECONDS, "validation or rendering"):
        try:
            bundle = load_bundle(directory)
        except InvalidInput as exc:
            event("refused: " + exc.problems[0].message[:50])
            assert exc.problems
            for problem in exc.problems:
                assert problem.file and problem.line >= 1 and problem.column >= 1 and problem.message
                assert problem.file.endswith((name, "campaign.yaml")), f"{problem} does not name the message"
            return
        matrix = render_matrix(bundle)
        event("valid")
        for segment in matrix.newsletters():
            try:
                raw = segment.personalise(
                    "reader@example.org",
                    {"first_name": first_name, "organisation_name": organisation},
                    "https://example.org/u/token",
                    "<fuzz.1@example.org>",
                )
            except UnsafeHeader:
                event("personal value refused")
                continue
            message = message_from_bytes(raw, policy=policy.SMTP)
            html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
            if "<" in first_name and first_name in body:
                pass  # the template itself may hold the same text
            elif "<" in first_name:
                assert first_name not in html, "a personal value reached the HTML unescaped"


@pytest.mark.parametrize("char", ["\x0b", "\x13", "\x1b", "\x08"])
def test_control_character_in_a_body_is_named_at_its_line(tmp_path: Path, char: str) -> None:
    directory = tmp_path / "minimal"
    shutil.copytree(MINIMAL, directory)
    write_message(directory, "all.en.md", "Hello", "News", f"First line.\n\nHello{char}there.")
    with pytest.raises(InvalidInput) as caught:
        load_bundle(directory)
    problem = caught.value.problems[0]
    assert problem.file.endswith("all.en.md") and problem.line == 10, str(problem)
