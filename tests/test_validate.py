"""Each validation rule, on a broken copy of a small campaign: file, line and message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput, Problem
from tests.campaign_copy import copy_campaign, edit, line_of
from waves.assembly import assembled


def problems_of(directory: Path) -> list[Problem]:
    """Every problem validation finds: loading, the wave's assembly and rendering every message."""
    with pytest.raises(InvalidInput) as caught:
        assembled(directory)
    return caught.value.problems


def only(problems: list[Problem], needle: str) -> Problem:
    found = [p for p in problems if needle in p.message]
    assert found, f"no problem mentions {needle!r}: {[str(p) for p in problems]}"
    return found[0]


@pytest.fixture
def camp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = copy_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    return directory


def yaml_of(camp: Path) -> Path:
    return camp / "campaign.yaml"


def assert_at(problem: Problem, camp: Path, needle: str, file: str = "campaign.yaml") -> None:
    path = camp / file
    assert problem.file == os.path.relpath(path), problem
    assert problem.line == line_of(path, needle), problem


def test_valid_minimal_campaign_loads(camp: Path) -> None:
    bundle = load_bundle(camp)
    assert [w.id for w in bundle.spec.waves] == ["first", "second"]
    assert bundle.warnings == ()


def test_yaml_syntax_error_names_line(camp: Path) -> None:
    edit(yaml_of(camp), "  id: mini\n", "  id: [mini\n")
    problem = only(problems_of(camp), "YAML syntax")
    assert problem.file == "minimal/campaign.yaml"
    assert problem.line >= line_of(yaml_of(camp), "id: [mini")


def test_duplicate_key_is_refused(camp: Path) -> None:
    edit(yaml_of(camp), "  id: mini\n", "  id: mini\n  id: again\n")
    assert_at(only(problems_of(camp), "duplicate key 'id'"), camp, "id: again")


def test_unsafe_tag_is_refused(camp: Path) -> None:
    edit(yaml_of(camp), "  id: mini\n", "  id: !!python/object/apply:os.system [echo hi]\n")
    assert_at(only(problems_of(camp), "unsupported YAML tag"), camp, "python/object")


def test_unknown_key_is_refused_at_the_key(camp: Path) -> None:
    edit(yaml_of(camp), "  id: mini\n", "  id: mini\n  colour: blue\n")
    problem = only(problems_of(camp), "unknown key 'colour'")
    assert_at(problem, camp, "colour: blue")
    assert problem.column == 3


def test_wrong_type_names_the_field(camp: Path) -> None:
    edit(yaml_of(camp), "    number: 1\n", "    number: first\n")
    problem = only(problems_of(camp), "ambitions.0.number")
    assert_at(problem, camp, "number: first")


def test_missing_required_key(camp: Path) -> None:
    edit(yaml_of(camp), "  sender: {name: Mini team, address: team@example.org}\n", "")
    only(problems_of(camp), "campaign.sender: required key missing")


def test_schema_version_is_required_and_checked(camp: Path) -> None:
    edit(yaml_of(camp), "schema_version: 1", "schema_version: 7")
    assert_at(only(problems_of(camp), "schema_version 7 is not supported"), camp, "schema_version")


def test_unknown_audience_reference(camp: Path) -> None:
    edit(yaml_of(camp), "audiences: [youth]", "audiences: [teens]")
    assert_at(only(problems_of(camp), "unknown audience 'teens'"), camp, "audiences: [teens]")


def test_unknown_initiative_reference(camp: Path) -> None:
    edit(yaml_of(camp), "initiatives: [code-school]", "initiatives: [code-club]")
    assert_at(only(problems_of(camp), "unknown initiative 'code-club'"), camp, "initiatives: [code-club]")


def test_initiative_needs_a_valid_ambition(camp: Path) -> None:
    edit(yaml_of(camp), "    ambition: skills\n", "    ambition: space-travel\n")
    problem = only(problems_of(camp), "names ambition 'space-travel'")
    assert_at(problem, camp, "ambition: space-travel")


def test_unknown_wave_in_relative_start(camp: Path) -> None:
    edit(yaml_of(camp), "{after: first,", "{after: zeroth,")
    assert_at(only(problems_of(camp), "unknown wave 'zeroth'"), camp, "after: zeroth")


def test_channel_not_enabled(camp: Path) -> None:
    edit(yaml_of(camp), "ambitions:\n", "channels: {newsletter: {}}\nambitions:\n")
    assert_at(only(problems_of(camp), "channel 'x' is not enabled"), camp, "channels: [newsletter, x]")


def test_unknown_channel_is_a_type_error(camp: Path) -> None:
    edit(yaml_of(camp), "channels: [newsletter, x]", "channels: [newsletter, myspace]")
    assert_at(only(problems_of(camp), "channels.1"), camp, "myspace")


def test_missing_translation_in_spec(camp: Path) -> None:
    edit(
        yaml_of(camp),
        "title: {nl: Eerste, fr: Première, de: Erste, en: First}",
        "title: {nl: Eerste, fr: Première, en: First}",
    )
    assert_at(only(problems_of(camp), "missing de translation"), camp, "nl: Eerste")


def test_missing_message_file_for_a_language(camp: Path) -> None:
    (camp / "messages" / "hello" / "youth.fr.md").unlink()
    problem = only(problems_of(camp), "missing fr text for message 'young'")
    assert_at(problem, camp, "template: hello/youth")


def test_explicit_fallback_allows_a_missing_language(camp: Path) -> None:
    (camp / "messages" / "hello" / "youth.en.md").unlink()
    edit(yaml_of(camp), "  languages: [nl, fr, de, en]\n", "  languages: [nl, fr, de, en]\n  fallbacks: {en: nl}\n")
    bundle = load_bundle(camp)
    assert bundle.message("hello/youth", "en").source_lang == "nl"


def test_waves_out_of_order(camp: Path) -> None:
    edit(yaml_of(camp), '{after: first, days: 7, at: "11:00"}', "2023-06-01T10:00:00")
    problem = only(problems_of(camp), "before the wave above it")
    assert_at(problem, camp, "start: 2023-06-01T10:00:00")


def test_wave_in_blackout(camp: Path) -> None:
    edit(yaml_of(camp), "start: 2023-06-12T10:00:00", "start: 2023-07-21T10:00:00")
    edit(yaml_of(camp), '{after: first, days: 7, at: "11:00"}', '{after: first, days: 3, at: "11:00"}')
    assert_at(only(problems_of(camp), "blackout date (Nationale feestdag)"), camp, "start: 2023-07-21")


def test_wave_outside_send_window(camp: Path) -> None:
    edit(yaml_of(camp), "start: 2023-06-12T10:00:00", "start: 2023-06-12T23:30:00")
    edit(yaml_of(camp), "days: 7, at", "days: 8, at")
    assert_at(only(problems_of(camp), "outside the send window"), camp, "start: 2023-06-12T23:30:00")


def test_weekend_start_is_outside_send_window(camp: Path) -> None:
    edit(yaml_of(camp), "days: 7, at", "days: 5, at")  # Saturday 17 June
    assert_at(only(problems_of(camp), "outside the send window"), camp, "after: first")


def test_template_that_does_not_compile(camp: Path) -> None:
    path = camp / "messages" / "hello" / "all.de.md"
    edit(path, "{% for item in initiatives %}", "{% for item in initiatives %}{% if %}")
    problem = only(problems_of(camp), "template")
    assert problem.file == os.path.relpath(path)
    assert problem.line == line_of(path, "{% if %}")


def test_message_file_without_front_matter(camp: Path) -> None:
    path = camp / "messages" / "hello" / "all.nl.md"
    path.write_text("Hallo!\n", encoding="utf-8")
    problem = only(problems_of(camp), "starts with '---'")
    assert (problem.file, problem.line) == (os.path.relpath(path), 1)


def test_front_matter_unknown_key_names_its_line(camp: Path) -> None:
    path = camp / "messages" / "hello" / "all.fr.md"
    edit(path, "preheader:", "sujet: oops\npreheader:")
    problem = only(problems_of(camp), "unknown key 'sujet'")
    assert (problem.file, problem.line) == (os.path.relpath(path), line_of(path, "sujet: oops"))


def test_audience_no_wave_addresses_is_a_warning(camp: Path) -> None:
    edit(yaml_of(camp), "audiences: [youth]", "audiences: [citizens]")
    bundle = load_bundle(camp)
    assert len(bundle.warnings) == 1
    warning = bundle.warnings[0]
    assert warning.severity == "warning"
    assert "'youth' is addressed by no wave" in warning.message
    assert_at(warning, camp, "- id: youth")


def test_link_in_bio_and_hashtags_only_in_campaign_languages(camp: Path) -> None:
    wrong = '  link_in_bio: {es: "enlace en la bio"}\n  hashtags: {it: ["#Mini"], nl: ["#Mini"],'
    edit(yaml_of(camp), '  hashtags: {nl: ["#Mini"],', wrong)
    problems = problems_of(camp)
    assert_at(only(problems, "link_in_bio for es, which is not a campaign language"), camp, "link_in_bio:")
    assert_at(only(problems, "hashtags for it, which is not a campaign language"), camp, "hashtags:")


def test_every_problem_is_reported_at_once(camp: Path) -> None:
    edit(yaml_of(camp), "audiences: [youth]", "audiences: [teens]")
    edit(yaml_of(camp), "initiatives: [code-school]", "initiatives: [code-club]")
    edit(yaml_of(camp), "    ambition: skills\n", "    ambition: nowhere\n")
    messages = " | ".join(p.message for p in problems_of(camp))
    assert "teens" in messages and "code-club" in messages and "nowhere" in messages


def test_binary_garbage_is_refused(camp: Path) -> None:
    yaml_of(camp).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    only(problems_of(camp), "not UTF-8")


def test_billion_laughs_is_refused(camp: Path) -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    yaml_of(camp).write_text("\n".join(lines) + "\n", encoding="utf-8")
    only(problems_of(camp), "document too large")


def test_not_a_directory(tmp_path: Path) -> None:
    only(problems_of(tmp_path / "nope"), "not a campaign directory")
