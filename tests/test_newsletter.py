"""The newsletter output: HTML layout, text part, escaping, images, size, and that the
per-recipient fill-in gives exactly what rendering from scratch gives."""

from __future__ import annotations

import os
import re
from email import message_from_bytes, policy
from html import unescape
from pathlib import Path

import pytest

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput, Problem
from campaign.newsletter import GMAIL_CLIP_BYTES, NewsletterSegment, render_newsletter, sample_fields
from campaign.render import campaign_hosts
from campaign.render_check import validated
from campaign.segment import Assets, iter_segments, message_for, render_segment
from campaign.settings import get_settings
from campaign.timing import resolve_starts
from tests.campaign_copy import MINIMAL, copy_campaign, edit, line_of
from tests.conftest import reset_caches

MESSAGE = "messages/hello/youth.nl.md"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(autouse=True)
def _https_base(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAVECAST_BASE_URL", "https://wavecast.example.org")
    reset_caches()


@pytest.fixture
def camp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = copy_campaign(tmp_path)
    monkeypatch.chdir(tmp_path)
    return directory


def newsletter(directory: Path, wave: str = "first", audience: str = "youth", lang: str = "nl") -> NewsletterSegment:
    found = render_segment(load_bundle(directory), wave, audience, lang, "newsletter")
    assert isinstance(found, NewsletterSegment)
    return found


def problems_of(directory: Path) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        validated(load_bundle(directory))
    return caught.value.problems


def test_html_has_language_preheader_title_and_viewport() -> None:
    segment = newsletter(MINIMAL, lang="fr")
    html = segment.html
    assert re.search(r'<html lang="fr"', html)
    assert "<title>Hello youth (fr)</title>" in html
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    hidden = re.search(r'<div style="display:none;[^"]*">([^<]*)</div>', html)
    assert hidden is not None and hidden.group(1) == "A short preheader (fr)"
    assert "@media only screen" in html  # the responsive rules stay, for phones


def test_css_is_inlined_into_the_body() -> None:
    html = newsletter(MINIMAL).html
    strong = re.search(r"<strong([^>]*)>youth</strong>", html)
    assert strong is not None and "color: #12355b" in strong.group(1)
    # Rules that could be inlined are gone from <style>; the dark-mode @media block stays.
    assert ".body h1 { font-size" not in html and "prefers-color-scheme: dark" in html


def test_every_image_has_alt_text() -> None:
    for output in iter_segments(load_bundle(MINIMAL)):
        if isinstance(output, NewsletterSegment):
            for tag in re.findall(r"<img[^>]*>", output.html):
                alt = re.search(r'alt="([^"]*)"', tag)
                assert alt is not None and alt.group(1).strip(), tag


def test_text_part_is_written_for_reading() -> None:
    text = newsletter(MINIMAL).text
    assert text.startswith("Hello Sam,\n\nThis is the youth message in nl.\n\n- Codeschool\n")
    assert "<" not in text and "**" not in text
    assert "Read more:\nhttps://example.org/nl?utm_source=newsletter&utm_medium=email" in text
    assert "Uitschrijven:\nhttps://wavecast.example.org/u/preview\n" in text
    assert text.rstrip().endswith("voorkeuren:\nhttps://wavecast.example.org/u/preview/preferences")


def test_links_to_the_campaign_site_carry_utm_tags() -> None:
    html = newsletter(MINIMAL).html
    assert (
        "https://example.org/nl?utm_source=newsletter&amp;utm_medium=email&amp;utm_campaign=mini"
        "&amp;utm_content=first-youth-nl"
    ) in html


def test_contact_name_is_escaped_in_html_and_unchanged_in_text() -> None:
    segment = newsletter(MINIMAL)
    raw = segment.personalise(
        "anna@example.org", {"first_name": SCRIPT}, "https://wavecast.example.org/u/t", "<a.1@example.org>"
    )
    msg = message_from_bytes(raw, policy=policy.default)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"Hello {SCRIPT}," in text
    assert "Hello &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html


def test_missing_personal_field_gets_a_neutral_word() -> None:
    _subject, _html, text = newsletter(MINIMAL).render({"first_name": ""})
    assert text.startswith("Hello lezer,")


def test_preview_contact_comes_from_the_audience_sample(camp: Path) -> None:
    edit(
        camp / "campaign.yaml",
        "    rule: {age: {min: 16, max: 25}}",
        "    rule: {age: {min: 16, max: 25}}\n    sample: {first_name: Lucas}",
    )
    bundle = load_bundle(camp)
    assert sample_fields(bundle, "youth", "fr") == {"first_name": "Lucas", "organisation_name": "Exemple asbl"}
    assert newsletter(camp).text.startswith("Hello Lucas,")
    assert newsletter(camp, audience="citizens").text.startswith("Hello Sam,")


def test_personalise_equals_rendering_from_scratch(camp: Path) -> None:
    path = camp / MESSAGE
    edit(path, 'subject: "Hello youth (nl)"', 'subject: "{{ contact.first_name }} at {{ contact.organisation_name }}"')
    edit(path, "This is the **youth** message", "This is for **{{ contact.organisation_name }}**, the youth message")
    bundle = load_bundle(camp)
    segment = newsletter(camp)
    fields = {"first_name": "Zoë Van den Broeck", "organisation_name": "Bakkerij <Verhaegen> & Zn"}
    unsubscribe = "https://wavecast.example.org/u/abc?x=1&y=2"
    base = get_settings().base_url
    message = message_for(bundle.spec, "first", "youth", "newsletter")
    assert message is not None
    scratch = render_newsletter(
        bundle,
        segment.key,
        message,
        resolve_starts(bundle.spec)["first"],
        base_url=base,
        hosts=campaign_hosts(bundle.spec),
        asset=Assets(bundle, base).url,
        contact=fields,
        unsubscribe_url=unsubscribe,
    )
    raw = segment.personalise("z@example.org", fields, unsubscribe, "<a.1@example.org>")
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Subject"] == scratch.subject == "Zoë Van den Broeck at Bakkerij <Verhaegen> & Zn"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == scratch.text  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    # The same page; only the escaping differs: mrml copies the title into an aria-label
    # unescaped, where the per-recipient fill-in escapes every value.
    assert unescape(html) == unescape(scratch.html)
    assert "&lt;Verhaegen&gt; &amp; Zn" in html and "<Verhaegen>" not in html


def test_relative_image_links_under_the_assets_address(camp: Path) -> None:
    (camp / "images").mkdir()
    (camp / "images" / "banner.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    edit(camp / MESSAGE, 'src: "https://example.org/banner.png"', 'src: "images/banner.png"')
    segment = newsletter(camp)
    assert 'src="https://wavecast.example.org/assets/mini/images/banner.png"' in segment.html
    assert segment.images == ("images/banner.png",)


def test_missing_image_file_fails_validation_at_its_line(camp: Path) -> None:
    edit(camp / MESSAGE, 'src: "https://example.org/banner.png"', 'src: "images/nope.png"')
    found = [p for p in problems_of(camp) if "images/nope.png" in p.message]
    assert found and found[0].file == os.path.relpath(camp / MESSAGE)
    assert found[0].line == line_of(camp / MESSAGE, "images/nope.png")


def test_image_outside_the_campaign_is_refused(camp: Path) -> None:
    edit(camp / MESSAGE, 'src: "https://example.org/banner.png"', 'src: "../../../etc/passwd"')
    assert any("'..' is not allowed" in p.message for p in problems_of(camp))


def test_body_image_without_alt_text_fails_validation_at_its_line(camp: Path) -> None:
    edit(
        camp / MESSAGE,
        "This is the **youth** message in nl.",
        "This is the **youth** message in nl.\n\n![](https://example.org/chart.png)",
    )
    found = [p for p in problems_of(camp) if "no alt text" in p.message]
    assert found and found[0].line == line_of(camp / MESSAGE, "![](https://example.org/chart.png)")


def test_newsletter_over_gmail_clipping_size_fails_validation(camp: Path) -> None:
    paragraph = "Digitaal is van ons allemaal, en niemand wordt vergeten. " * 40
    edit(camp / MESSAGE, "This is the **youth** message in nl.", "\n\n".join([paragraph] * 60))
    found = [p for p in problems_of(camp) if "Gmail clips" in p.message]
    assert found and found[0].file == os.path.relpath(camp / MESSAGE)
    assert GMAIL_CLIP_BYTES == 102 * 1024


def test_segment_is_rendered_once_per_campaign_content(camp: Path) -> None:
    bundle = load_bundle(camp)
    first = render_segment(bundle, "first", "youth", "nl", "newsletter")
    assert render_segment(bundle, "first", "youth", "nl", "newsletter") is first
    assert render_segment(load_bundle(camp), "first", "youth", "nl", "newsletter") is first  # same content hash
    edit(camp / MESSAGE, "This is the **youth** message", "This is the **edited** youth message")
    edited = render_segment(load_bundle(camp), "first", "youth", "nl", "newsletter")
    assert edited is not first and edited.content_hash != first.content_hash


def test_content_hash_follows_the_message_and_not_the_path(tmp_path: Path) -> None:
    one = newsletter(copy_campaign(tmp_path / "a"))
    two = newsletter(copy_campaign(tmp_path / "b"))
    assert one.content_hash == two.content_hash
    assert newsletter(MINIMAL, lang="fr").content_hash != one.content_hash


def test_click_tracking_sends_links_through_the_counter(camp: Path) -> None:
    edit(camp / "campaign.yaml", "  blackout_dates:", "  click_tracking: true\n  blackout_dates:")
    html = newsletter(camp).html
    assert 'href="https://wavecast.example.org/c/' in html
    assert "https://wavecast.example.org/u/preview" in html  # the unsubscribe link is never tracked
