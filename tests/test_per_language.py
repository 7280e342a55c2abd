"""Every word a reader sees is in their language: the sender, the banner and its alt text, the
language of an initiative's page, and how an Instagram caption points to its link.

The example campaign is rendered as its readers get it, in each of its four languages.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import html
import re
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

import pytest
from PIL import Image

from campaign.bundle import Bundle, load_bundle
from campaign.mime import message_id
from campaign.newsletter import NewsletterSegment
from campaign.segment import render_segment
from campaign.social import SocialPost
from tests.campaign_copy import copy_campaign, edit
from tests.cli import wavecast
from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "smartnation"
SENDER = {"nl": "FOD BOSA", "fr": "SPF BOSA", "de": "FÖD BOSA", "en": "FPS BOSA"}
SENT_BY = {"nl": "Verstuurd door", "fr": "Envoyé par", "de": "Gesendet von", "en": "Sent by"}
WAVE_TITLE = {
    "nl": "Digitaal in het dagelijks leven",
    "fr": "Le numérique au quotidien",
    "de": "Digital im Alltag",
    "en": "Digital in everyday life",
}
# The health portal has a site per language; the Connectoo article exists in Dutch only.
HEALTH_SITE = {
    "nl": "https://www.mijngezondheid.belgie.be",
    "fr": "https://www.masante.belgique.be",
    "de": "https://www.meinegesundheit.belgien.be",
    "en": "https://www.myhealth.belgium.be",
}
IN_DUTCH = {"nl": None, "fr": "(en néerlandais)", "de": "(auf Niederländisch)", "en": "(in Dutch)"}
LINK_IN_BIO = {
    "nl": "link in onze bio.",
    "fr": "lien dans notre bio.",
    "de": "Link in unserer Bio.",
    "en": "link in our bio.",
}
LANGS = tuple(SENDER)


@pytest.fixture(scope="module")
def example() -> Bundle:
    return load_bundle(EXAMPLE)


def newsletter(bundle: Bundle, lang: str) -> EmailMessage:
    segment = render_segment(bundle, "everyday-digital", "citizens", lang, "newsletter")
    assert isinstance(segment, NewsletterSegment)
    raw = segment.personalise(
        to="Sofie Peeters <sofie@example.org>",
        fields={"first_name": "Sofie", "organisation_name": "Bakkerij Verhaegen"},
        unsubscribe_url="https://wavecast.example.org/u/token",
        message_id=message_id("smartnation-2023", "everyday-digital", 7, "newsletter", "bosa.fgov.be"),
        date=dt.datetime(2023, 10, 3, 8, 0, tzinfo=dt.UTC),
    )
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    page = message.get_body(("html",))
    assert text is not None and page is not None
    return text.get_content(), page.get_content()


@pytest.mark.parametrize("lang", LANGS)
def test_each_language_reads_its_own_sender_banner_and_page_languages(example: Bundle, lang: str) -> None:
    message = newsletter(example, lang)
    text, page = parts(message)

    # The sender: the From display name and the footer name the body in the reader's language.
    sender = f"SmartNation – {SENDER[lang]}"
    assert parseaddr(str(message["From"])) == (sender, "smartnation@bosa.fgov.be")
    assert f"{SENT_BY[lang]} {sender}" in text
    assert f"{SENT_BY[lang]} {sender}" in page
    assert not [other for other in SENDER.values() if other != SENDER[lang] and other in str(message["From"])]

    # The banner: the one drawn in this language, with alt text in this language.
    banner = f"images/everyday-digital.{lang}.png"
    assert banner in page
    alt = f"#SmartNation – {example.spec.campaign.name[lang]} – {WAVE_TITLE[lang]}"
    assert alt in [html.unescape(found) for found in re.findall(r'<img alt="([^"]*)"', page)]
    with Image.open(EXAMPLE / banner) as image:
        assert image.size == (600, 200)

    # The initiatives: the health portal in the reader's language, the Dutch-only page marked.
    assert HEALTH_SITE[lang] in text
    assert not [site for other, site in HEALTH_SITE.items() if other != lang and site in text]
    connectoo = next(line for line in text.splitlines() if "Connectoo" in line and "bosa.belgium.be/nl/" in line)
    note = IN_DUTCH[lang]
    if note is None:
        assert connectoo.rstrip().endswith(")") and "(in het" not in connectoo
    else:
        assert connectoo.rstrip().endswith(note)
        assert note in page


@pytest.mark.parametrize("lang", LANGS)
def test_an_instagram_post_carries_its_banner_and_points_to_the_bio(example: Bundle, lang: str) -> None:
    post = render_segment(example, "launch", "citizens", lang, "instagram")
    assert isinstance(post, SocialPost)
    assert post.text.endswith(LINK_IN_BIO[lang])
    assert "https://" not in post.text
    payload = post.as_json()
    assert payload["image"]["url"].endswith(f"/images/launch.{lang}.png")
    assert payload["image"]["alt"].startswith(f"#SmartNation – {example.spec.campaign.name[lang]}")
    assert payload["link"].startswith(f"https://smartnation.be/{lang}")  # for the profile's link
    # The other networks make the link clickable: their posts still end with it.
    x = render_segment(example, "launch", "citizens", lang, "x")
    assert isinstance(x, SocialPost) and x.text.endswith(x.link) and x.image_url == post.image_url


def test_one_plain_sender_still_serves_every_language_and_reply_to_may_differ(tmp_path: Path) -> None:
    camp = copy_campaign(tmp_path)
    edit(
        camp / "campaign.yaml",
        "sender: {name: Mini team, address: team@example.org}",
        "sender: {name: Mini team, address: team@example.org, reply_to: "
        "{nl: vragen@example.org, fr: questions@example.org, de: fragen@example.org, en: questions@example.org}}",
    )
    bundle = load_bundle(camp)
    for lang, reply_to in (("nl", "vragen@example.org"), ("fr", "questions@example.org")):
        segment = render_segment(bundle, "first", "youth", lang, "newsletter")
        assert isinstance(segment, NewsletterSegment)
        raw = segment.personalise(
            to="zoe@example.org",
            fields={"first_name": "Zoë", "organisation_name": ""},
            unsubscribe_url="https://wavecast.example.org/u/token",
            message_id=message_id("mini", "first", 1, "newsletter", "example.org"),
            date=dt.datetime(2023, 6, 12, 8, 0, tzinfo=dt.UTC),
        )
        headers = email.message_from_bytes(raw, policy=email.policy.default)
        assert parseaddr(str(headers["From"])) == ("Mini team", "team@example.org")
        assert str(headers["Reply-To"]) == reply_to


def test_a_page_in_a_language_the_campaign_lacks_is_refused_naming_the_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    camp = copy_campaign(tmp_path)
    edit(
        camp / "campaign.yaml",
        "url: https://example.org/code",
        "url: {nl: 'https://example.org/code', it: 'https://example.org/it'}",
    )
    result = wavecast(capsys, "validate", str(camp))
    assert result.code != 0
    assert "campaign.yaml:24:" in result.err and "page in it" in result.err
    assert "Traceback" not in result.err
