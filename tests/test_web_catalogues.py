"""The web app's catalogues: every message its pages and routes mark is translated into Dutch
and French, none empty or fuzzy, with the same fields as the English; so a new string that is
not marked, or marked and not translated, fails here (run `python -m frontends.web.catalogues`
to bring the .po files up to date, then translate)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from accounts.models import INTERFACE_LANGUAGES
from frontends.web import i18n
from frontends.web.catalogues import extracted
from frontends.web.templates import render

TRANSLATED = [code for code in INTERFACE_LANGUAGES if code != i18n.DEFAULT]


def _catalogue(language: str) -> Catalog:
    with i18n.catalogue(language).open("rb") as po:
        return read_po(po, locale=language)


def test_the_languages_are_english_dutch_and_french() -> None:
    assert INTERFACE_LANGUAGES == ("en", "nl", "fr")
    assert sorted(p.parent.parent.name for p in i18n.LOCALES.glob("*/LC_MESSAGES/messages.po")) == sorted(TRANSLATED)


def test_extraction_finds_the_pages_and_the_routes_messages() -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in extracted() if m.id}
    assert {"Next wave", "Sign in", "Your language is saved.", "Not allowed", "in %(hours)d h %(minutes)d min"} <= ids
    assert len(ids) > 250


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_extracted_message_is_translated_and_none_is_empty_or_fuzzy(language: str) -> None:
    catalogue = _catalogue(language)
    assert not catalogue.fuzzy, f"{language}: the catalogue's header is marked fuzzy"
    missing, empty, fuzzy = [], [], []
    for message in extracted():
        if not message.id:
            continue
        found = catalogue.get(message.id, context=message.context)
        if found is None:
            missing.append(message.id)
        elif "fuzzy" in found.flags:
            fuzzy.append(message.id)
        elif not all(found.string) if isinstance(found.string, tuple) else not found.string:
            empty.append(message.id)
    assert missing == [], f"{language}: not in the catalogue (run python -m frontends.web.catalogues)"
    assert empty == [], f"{language}: not translated"
    assert fuzzy == [], f"{language}: fuzzy, to be checked by a translator"


@pytest.mark.parametrize("language", TRANSLATED)
def test_each_translation_keeps_the_fields_of_its_message(language: str) -> None:
    problems = [f"{m.id!r}: {errors}" for m, errors in _catalogue(language).check()]
    assert problems == []


def test_a_page_is_in_its_language_with_dates_and_numbers_as_that_language_writes_them() -> None:
    start = dt.datetime(2023, 6, 12, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))
    for language, words, when, number in (
        ("en", "Back to the dashboard", "Mon 12 Jun 2023, 10:00 CEST", "12,345"),
        ("nl", "Terug naar het dashboard", "ma 12 jun 2023, 10:00 CEST", "12.345"),
        ("fr", "Retour au tableau de bord", "lun. 12 juin 2023, 10:00 CEST", "12\u202f345"),
    ):
        html = render("error.html", language=language, title="Not found", message="", problems=[])
        assert f'<html lang="{language}">' in html and words in html
        with i18n.speaking(language):
            assert i18n.when(start) == when
            assert i18n.number(12345) == number


@pytest.mark.parametrize(
    ("chosen", "header", "expected"),
    [
        ("fr", "nl-BE,nl;q=0.9", "fr"),  # the account's choice first
        (None, "de-DE,de;q=0.9,fr-BE;q=0.8,en;q=0.5", "fr"),  # German is not a language of the app
        (None, "en;q=0.3, nl-BE", "nl"),
        (None, "nl;q=0, fr;q=0.1", "fr"),
        (None, "de", "en"),
        (None, "", "en"),
        (None, "q=;;,,fr;q=x", "en"),
    ],
)
def test_a_page_without_a_choice_follows_the_browser_then_english(
    chosen: str | None, header: str, expected: str
) -> None:
    assert i18n.negotiate(chosen, header) == expected
