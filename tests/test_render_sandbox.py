"""The template sandbox: a template gets its documented context and nothing else, and every
attempt to reach further fails validation with the message file and line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput, Problem
from campaign.render import RenderFailed, Where, compiled, render
from campaign.render_check import validated
from tests.campaign_copy import copy_campaign, edit, line_of

MESSAGE = "messages/hello/youth.nl.md"


@pytest.fixture
def camp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = copy_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    return directory


def problems_of(directory: Path) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        validated(load_bundle(directory))
    return caught.value.problems


def add_line(camp: Path, text: str) -> int:
    """Put `text` on its own line in the body of one message file; return that line."""
    path = camp / MESSAGE
    edit(path, "This is the **youth** message in nl.\n", f"This is the **youth** message in nl.\n\n{text}\n")
    return line_of(path, text.splitlines()[0])


def assert_reported(camp: Path, line: int, needle: str) -> Problem:
    problems = problems_of(camp)
    found = [p for p in problems if p.file == os.path.relpath(camp / MESSAGE) and p.line == line]
    assert found, f"nothing at {MESSAGE}:{line}: {[str(p) for p in problems]}"
    assert any(needle in p.message for p in found), [str(p) for p in found]
    return found[0]


ESCAPES = {
    "dunder attribute": ("{{ ''.__class__ }}", "__class__"),
    "dunder through the context": ("{{ campaign.__class__.__mro__ }}", "__class__"),
    "attr filter": ("{{ wave|attr('__class__') }}", "No filter named 'attr'"),
    "str.format trick": ("{{ '{0.__class__}'.format(wave) }}", "format"),
    "format filter": ("{{ '%s'|format(wave) }}", "No filter named 'format'"),
    "percent formatting": ("{{ '%s' % wave }}", "string formatting"),
    "huge range": ("{{ range(10**9) }}", "**"),
    "huge range without power": ("{{ range(1000000000)|list }}", "'range' is undefined"),
    "string bomb": ("{{ 'x' * 100000000 }}", "repeating"),
    "padding bomb": ("{{ 'x'|center(1000000000) }}", "No filter named 'center'"),
    "method call": ("{{ campaign.items() }}", "no attribute 'items'"),
    "string method": ("{{ wave.title.upper() }}", "has no field 'upper'"),
    "globals": ("{{ lipsum() }}", "'lipsum' is undefined"),
    "include": ("{% include 'campaign.yaml' %}", "cannot include"),
    "recursion": ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recursion"),
}


@pytest.mark.parametrize("template, needle", ESCAPES.values(), ids=ESCAPES.keys())
def test_template_reaching_outside_its_context_fails_validation_at_its_line(
    camp: Path, template: str, needle: str
) -> None:
    line = add_line(camp, template)
    assert_reported(camp, line, needle)


def test_syntax_error_names_its_line(camp: Path) -> None:
    line = add_line(camp, "{{ wave.title | }}")
    assert_reported(camp, line, "template syntax")


def test_undefined_name_names_its_line(camp: Path) -> None:
    line = add_line(camp, "{{ settings.secret_key }}")
    assert_reported(camp, line, "'settings' is undefined")


def test_subject_template_error_points_at_the_subject_line(camp: Path) -> None:
    edit(camp / MESSAGE, 'subject: "Hello youth (nl)"', 'subject: "Hello {{ wave.nope }}"')
    assert_reported(camp, line_of(camp / MESSAGE, "subject:"), "nope")


@pytest.mark.parametrize(
    "template",
    [
        "{{ contact.first_name|upper }}",
        "{% if contact.first_name %}hi{% endif %}",
        "{{ contact.first_name ~ '!' }}",
        "{% set name %}{{ contact.first_name }}{% endset %}{{ name|upper }}",
        "{{ contact }}",
    ],
)
def test_personal_fields_only_bare(camp: Path, template: str) -> None:
    line = add_line(camp, template)
    assert_reported(camp, line, "personal fields")


def test_unknown_personal_field_is_named(camp: Path) -> None:
    line = add_line(camp, "{{ contact.email }}")
    assert_reported(camp, line, "contact has no field 'email'")


def test_personal_field_in_a_link_is_refused(camp: Path) -> None:
    line = add_line(camp, "[Your page](https://example.org/?n={{ contact.first_name }})")
    assert_reported(camp, line, "inside a link")


def test_social_posts_cannot_use_personal_fields(camp: Path) -> None:
    path = camp / MESSAGE
    edit(path, '  default: "A post for youth in nl."', '  default: "Hi {{ contact.first_name }}"')
    assert_reported(camp, line_of(path, "default:"), "not personal")


def test_context_holds_initiatives_with_their_ambitions(camp: Path) -> None:
    add_line(
        camp,
        "{% for i in initiatives %}[{{ i.title }} / {{ i.ambition.number }}. {{ i.ambition.title }}"
        " / {{ i.ambition.kpis[0].target }}]{% endfor %} {{ audience.title }} {{ campaign.name }} {{ lang }}",
    )
    from campaign.segment import render_segment

    text = render_segment(load_bundle(camp), "first", "youth", "nl", "newsletter").text
    assert "[Codeschool / 1. Vaardigheden / 80% by 2030] Jongeren Mini nl" in text


@pytest.mark.parametrize(
    "lang, expected",
    [
        ("nl", "12 juni 2023 · 1.234.567,5 · 25% · Codeschool, Mini en Zoë"),
        ("fr", "12 juin 2023 · 1\u202f234\u202f567,5 · 25\u00a0% · Codeschool, Mini et Zoë"),
        ("de", "12. Juni 2023 · 1.234.567,5 · 25\u00a0% · Codeschool, Mini und Zoë"),
        ("en", "June 12, 2023 · 1,234,567.5 · 25% · Codeschool, Mini, and Zoë"),
    ],
)
def test_babel_filters_follow_the_language(lang: str, expected: str) -> None:
    import datetime as dt

    source = (
        "{{ when|format_date }} · {{ 1234567.5|format_number }} · {{ 0.25|format_percent }} · "
        "{{ ['Codeschool', 'Mini', 'Zoë']|format_list }}"
    )
    context = {"lang": lang, "campaign": {"timezone": "Europe/Brussels"}, "when": dt.date(2023, 6, 12)}
    assert render(source, context, Where("x.md", 1)) == expected


def test_babel_datetime_uses_the_campaign_time_zone() -> None:
    import datetime as dt

    when = dt.datetime(2023, 6, 12, 8, 0, tzinfo=dt.UTC)
    context = {"lang": "nl", "campaign": {"timezone": "Europe/Brussels"}, "when": when}
    assert render("{{ when|format_time }}", context, Where("x.md", 1)) == "10:00"


def test_runtime_error_line_is_offset_by_where_the_text_starts() -> None:
    with pytest.raises(RenderFailed) as caught:
        render("one\ntwo\n{{ nope }}", {}, Where("m.md", 20))
    assert [(p.file, p.line) for p in caught.value.problems] == [("m.md", 22)]


def test_same_text_is_compiled_once() -> None:
    text = "Hello {{ wave.title }} — compiled once"
    assert compiled(text) is compiled(str(text))
