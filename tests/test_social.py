"""Social posts: text with hashtags, a UTM-tagged link, alt text, each platform's length rule,
and the exports social schedulers import."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput, Problem
from campaign.render import tag_url
from campaign.render_check import validated
from campaign.segment import render_segment
from campaign.social import SocialPost, post_length, to_csv, to_jsonl
from tests.campaign_copy import MINIMAL, copy_campaign, edit, line_of

MESSAGE = "messages/hello/youth.nl.md"
ALL_PLATFORMS = "channels: [newsletter, x, linkedin, facebook, instagram, mastodon]"


@pytest.fixture
def camp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = copy_campaign(tmp_path)
    edit(directory / "campaign.yaml", "channels: [newsletter, x]", ALL_PLATFORMS)
    monkeypatch.chdir(tmp_path)
    return directory


def post(directory: Path, platform: str, lang: str = "nl", audience: str = "youth") -> SocialPost:
    found = render_segment(load_bundle(directory), "first", audience, lang, platform)
    assert isinstance(found, SocialPost)
    return found


def problems_of(directory: Path) -> list[Problem]:
    with pytest.raises(InvalidInput) as caught:
        validated(load_bundle(directory))
    return caught.value.problems


def set_post(camp: Path, text: str, platform: str = "default") -> None:
    edit(camp / MESSAGE, '  default: "A post for youth in nl."', f'  {platform}: "{text}"')


def test_post_is_text_then_hashtags_then_link() -> None:
    x = post(MINIMAL, "x")
    assert x.text == (
        "A post for youth in nl.\n\n#Mini\n\nhttps://example.org/nl?utm_source=x&utm_medium=social"
        "&utm_campaign=mini&utm_content=first-youth-nl"
    )
    assert x.image_url == "https://example.org/banner.png" and x.image_alt == "Banner (nl)"


def test_link_carries_utm_tags_and_keeps_its_own_parameters() -> None:
    url = tag_url("https://example.org/page?ref=a&utm_source=old#top", None, "mastodon", "social", "mini", "w-a-nl")
    parts = urlsplit(url)
    assert parse_qsl(parts.query) == [
        ("ref", "a"),
        ("utm_source", "mastodon"),
        ("utm_medium", "social"),
        ("utm_campaign", "mini"),
        ("utm_content", "w-a-nl"),
    ]
    assert parts.fragment == "top"


def test_newsletter_tags_only_the_campaign_sites() -> None:
    assert (
        tag_url("https://partner.example/x", frozenset({"example.org"}), "newsletter", "email", "c", "k")
        == "https://partner.example/x"
    )
    assert tag_url("mailto:a@example.org", None, "x", "social", "c", "k") == "mailto:a@example.org"


def test_hashtag_already_in_the_text_is_not_repeated(camp: Path) -> None:
    set_post(camp, "Join #mini today")
    assert post(camp, "linkedin").hashtags == ()


def test_x_counts_weighted_characters_and_links_as_23() -> None:
    assert post_length("x", "a" * 10) == 10
    assert post_length("x", "界" * 10) == 20  # CJK weighs 2
    assert post_length("x", "see https://example.org/" + "a" * 100) == 4 + 23
    assert post_length("x", "🇧🇪") == 2


def test_mastodon_counts_links_as_23() -> None:
    assert post_length("mastodon", "see https://example.org/" + "a" * 100) == 4 + 23
    assert post_length("linkedin", "see https://example.org/" + "a" * 100) == len("see https://example.org/") + 100


def test_bluesky_counts_graphemes_as_bluesky_does() -> None:
    assert post_length("bluesky", "🇧🇪" * 10) == 10  # a flag is two code points, one grapheme
    assert post_length("bluesky", "👨‍👩‍👧‍👦 e\u0301") == 3  # a family (7 code points), a space, é as e + accent
    assert post_length("bluesky", "see https://example.org/" + "a" * 100) == len("see https://example.org/") + 100


FLAGS = "🇧🇪🇳🇱🇫🇷🇩🇪"  # 4 graphemes, 8 code points, 32 bytes


@pytest.mark.parametrize(("flags", "over"), [(40, False), (50, True)])
def test_an_emoji_heavy_bluesky_post_is_measured_in_graphemes(camp: Path, flags: int, over: bool) -> None:
    edit(camp / "campaign.yaml", ALL_PLATFORMS, ALL_PLATFORMS.replace("]", ", bluesky]"))
    set_post(camp, "Digitaal! " + FLAGS * flags, platform="bluesky")
    measured = post(camp, "bluesky")
    assert len(measured.text) > 400  # far more code points than Bluesky's limit
    assert measured.length == len(measured.text) - 4 * flags  # each flag counted once
    problems = [p.message for p in measured.problems]
    assert problems == (
        [
            f"bluesky post is {measured.length} characters (graphemes) with hashtags and link, "
            "over the limit of 300 (wave first, audience youth)"
        ]
        if over
        else []
    )


def test_a_bluesky_post_over_3000_bytes_is_refused(camp: Path) -> None:
    edit(camp / "campaign.yaml", ALL_PLATFORMS, ALL_PLATFORMS.replace("]", ", bluesky]"))
    set_post(camp, "👨‍👩‍👧‍👦" * 130, platform="bluesky")  # 130 graphemes, 25 bytes each
    assert [p.message.split(",")[0] for p in post(camp, "bluesky").problems] == [
        f"bluesky post is {len(post(camp, 'bluesky').text.encode())} bytes"
    ]


def test_over_long_x_post_fails_validation_at_its_line(camp: Path) -> None:
    set_post(camp, "Digitaal voor iedereen! " * 12, platform="x")
    found = [p for p in problems_of(camp) if p.message.startswith("x post is")]
    assert found and found[0].file == os.path.relpath(camp / MESSAGE)
    assert found[0].line == line_of(camp / MESSAGE, "  x: ")
    assert "over the limit of 280" in found[0].message


def test_channel_limit_from_campaign_yaml_applies(camp: Path) -> None:
    edit(
        camp / "campaign.yaml",
        "waves:\n",
        "channels:\n  newsletter: {}\n  x: {}\n  linkedin: {limit: 40}\n"
        "  facebook: {}\n  instagram: {}\n  mastodon: {}\nwaves:\n",
    )
    found = [p for p in problems_of(camp) if p.message.startswith("linkedin post is")]
    assert found and "over the limit of 40" in found[0].message


def test_instagram_allows_30_hashtags(camp: Path) -> None:
    set_post(camp, " ".join(f"#tag{i}" for i in range(30)), platform="instagram")
    found = [p for p in problems_of(camp) if "hashtags" in p.message]
    assert found and "31 hashtags, over the limit of 30" in found[0].message


def test_social_image_is_preferred_for_alt_text(camp: Path) -> None:
    edit(
        camp / MESSAGE, "social:\n", 'social_image: {src: "https://example.org/square.png", alt: "A square"}\nsocial:\n'
    )
    found = post(camp, "instagram")
    assert (found.image_url, found.image_alt) == ("https://example.org/square.png", "A square")


def test_message_without_post_text_for_its_platform_is_an_error(camp: Path) -> None:
    edit(camp / MESSAGE, '  default: "A post for youth in nl."', '  facebook: "Only for Facebook."')
    found = [p for p in problems_of(camp) if "has no post text" in p.message]
    assert found and found[0].file == os.path.relpath(camp / MESSAGE)


def test_jsonl_export_has_one_post_per_line(camp: Path) -> None:
    posts = [post(camp, "mastodon", lang) for lang in ("nl", "fr")]
    lines = to_jsonl(posts).splitlines()
    assert [json.loads(line)["lang"] for line in lines] == ["nl", "fr"]
    first = json.loads(lines[0])
    assert first["platform"] == "mastodon" and first["limit"] == 500 and first["content_hash"] == posts[0].content_hash
    assert first["image"] == {"url": "https://example.org/banner.png", "alt": "Banner (nl)"}


def test_csv_export_is_local_time_message_link(camp: Path) -> None:
    rows = list(csv.reader(io.StringIO(to_csv([post(camp, "facebook")]))))
    assert rows[0] == ["Date", "Message", "Link"]
    assert rows[1][0] == "2023-06-12 10:00"  # Europe/Brussels, as scheduled in campaign.yaml
    assert rows[1][1] == "A post for youth in nl.\n\n#Mini"
    assert rows[1][2].startswith("https://example.org/nl?utm_source=facebook")


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_csv_cells_cannot_become_formulas(camp: Path, start: str) -> None:
    set_post(camp, f"{start}HYPERLINK(1)")
    rows = list(csv.reader(io.StringIO(to_csv([post(camp, "linkedin")]))))
    assert rows[1][1].startswith(f"'{start}HYPERLINK")


def test_every_output_carries_its_content_hash(camp: Path) -> None:
    x, mastodon = post(camp, "x"), post(camp, "mastodon")
    assert len(x.content_hash) == 64 and x.content_hash != mastodon.content_hash
    assert x.as_json()["content_hash"] == x.content_hash
