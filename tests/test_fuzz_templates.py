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

import mrml
import pytest
from hypothesis import HealthCheck, Phase, event, example, given, settings
from hypothesis import strategies as st

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput
from campaign.mime import UnsafeHeader
from campaign.render_check import validated
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
    # Growth: each operator that can make a value larger than the sandbox's bounds.
    "{% macro grow(s, n) %}{% if n %}{{ grow(s ~ s, n - 1) }}{% endif %}{% endmacro %}{{ grow('x' * 9999, 30) }}",
    "{% macro add(s, n) %}{% if n %}{{ add(s + s, n - 1) }}{% endif %}{% endmacro %}{{ add([1] * 99, 30) }}",
    "{{ ('x' * 9999)|list|join('y' * 9999) }}",
    "{{ [1]|batch(100000000, 'x')|list }}",
    "{{ ('x ' * 4999)|wordwrap(1, wrapstring='y' * 9999) }}",
    "{{ [['x' * 9999] * 99] * 99 }}",
    "{% set captured %}{% for a in 'x' * 9999 %}{{ 'y' * 9999 }}{% endfor %}{% endset %}",
    "{% for a in 'x' * 9999 %}{{ 'y' * 9999 }}{% endfor %}",
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
# Found by this fuzzer: the error named templates/newsletter/layout.mjml.j2:1:1 ("unable to
# parse next template in root template") instead of the message file.
@example(
    body="{{ contact.first_name }}", subject="Hello", preheader="\x08", name="all.en.md", first_name="", organisation=""
)
@example(body="Hi\uffff", subject="Hello", preheader="News", name="youth.nl.md", first_name="", organisation="")
@example(body="{{ '\\x0c' }}", subject="Hello", preheader="News", name="all.en.md", first_name="", organisation="")
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
            bundle = validated(load_bundle(directory))
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
        validated(load_bundle(directory))
    problem = caught.value.problems[0]
    assert problem.file.endswith("all.en.md") and problem.line == 10, str(problem)


# Each route by which a character XML (so the MJML layout) cannot hold reaches a message:
# a YAML escape in the front matter, a Jinja string literal, a filter's result, the raw
# non-characters the file check let through. (field, text, line of the message file).
ESCAPED = [
    ("subject", "Hi\x08", 2),
    ("preheader", "\x0c", 3),
    ("preheader", "News\x00", 3),
    ("preheader", "News\ufffe", 3),
    ("subject", "{{ '\\x1b' }}", 2),
    ("preheader", "{{ '\\uffff' }}", 3),
    ("body", "First.\n\nHi {{ '\\x0c' }} there.", 10),
    ("body", "First.\nHi\uffff there.", 9),
    ("body", "{{ '\\ud800' }}", 8),
    ("body", "First.\n\n{% set x = 'a' %}\n{{ x | replace('a', '\\x07') }}", 11),
]


@pytest.mark.parametrize(("field", "text", "line"), ESCAPED)
def test_an_escaped_control_character_is_named_in_the_message_file(
    tmp_path: Path, field: str, text: str, line: int
) -> None:
    directory = tmp_path / "minimal"
    shutil.copytree(MINIMAL, directory)
    parts = {"subject": "Hello", "preheader": "News", "body": "Hello."} | {field: text}
    write_message(directory, "all.en.md", parts["subject"], parts["preheader"], parts["body"])
    with pytest.raises(InvalidInput) as caught:
        validated(load_bundle(directory))
    problems = caught.value.problems
    assert all(p.file.endswith("all.en.md") for p in problems), [str(p) for p in problems]
    assert problems[0].line == line and "is not allowed in text" in problems[0].message, str(problems[0])


@pytest.mark.parametrize("escape", ["\\b", "\\0", "\\x1b", "\\uffff", "\\ud800"])
def test_an_escape_in_campaign_yaml_is_named_at_its_line(tmp_path: Path, escape: str) -> None:
    directory = tmp_path / "minimal"
    shutil.copytree(MINIMAL, directory)
    yaml_file = directory / "campaign.yaml"
    yaml_file.write_text(
        yaml_file.read_text(encoding="utf-8").replace("name: {nl: Mini,", f'name: {{nl: "Mi{escape}ni",', 1),
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as caught:
        validated(load_bundle(directory))
    problem = caught.value.problems[0]
    assert problem.file.endswith("campaign.yaml") and problem.line == 4, str(problem)
    assert "not allowed in text" in problem.message


def test_the_layout_parser_never_sees_what_a_message_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mrml parses only the layout's markup; the message's texts are put into its output."""
    directory = tmp_path / "minimal"
    shutil.copytree(MINIMAL, directory)
    body = "Quokka body.\n\n```\nkeep  this\n  indented\n```\n\n- one\n- two <b>&amp;</b>"
    write_message(directory, "all.en.md", "Quokka subject", "Quokka preheader", body)
    seen: list[str] = []
    real = mrml.to_html

    def spy(mjml: str, **kwargs: object) -> object:
        seen.append(mjml)
        return real(mjml, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(mrml, "to_html", spy)
    pages = [s.html for s in render_matrix(load_bundle(directory)).newsletters() if s.file.endswith("all.en.md")]
    assert seen and pages
    assert not any("Quokka" in mjml for mjml in seen), "a message text reached the MJML parser"
    page = pages[0]
    assert "Quokka subject</title>" in page and "Quokka preheader" in page and "Quokka body." in page
    assert "keep  this\n  indented" in page and "two &lt;b&gt;&amp;&lt;/b&gt;" in page
