"""Texts outside organisations submit reach newsletters as plain text: no link, markup, entity or
template code of theirs comes alive, and the reviewer sees exactly what readers will."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from accounts.roles import Role
from campaign.bundle import load_bundle
from campaign.initiative_requests import review, submit
from campaign.segment import render_segment
from campaign.submitted_text import markdown_literal, plain_text
from tests.accounts_setup import make_account, sign_in
from tests.campaign_copy import copy_campaign, edit
from tests.cli import wavecast
from waves.assembly import assemble

# These commands change state: they run as an account with every role (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("signed_in")

# One payload per way Markdown, HTML or Jinja could make a submitted text do something.
PAYLOADS = {
    "nl": "Win [een prijs](https://evil.example/md) of <https://evil.example/autolink>",
    "fr": '<a href="https://evil.example/html">clic</a> <img src="https://evil.example/x.png"> <b>gras</b>',
    "de": "{{ 7 * 191 }} {% if true %}wahr{% endif %} **fett** _kursiv_ ![bild](https://evil.example/img.png)",
    "en": "&amp; &#x41; `code` \\[x\\](https://evil.example/escaped) [ref]: https://evil.example/ref",
}
TITLE = {
    "nl": "<script>alert(1)</script> titel",
    "fr": "# Titre [lien](https://evil.example/title)",
    "de": "Titel\u202e gnilleps",
    "en": "Title {{ campaign.name }}",
}
BODY = """\
{% for item in initiatives %}
- **{{ item.title }}** ({{ item.organisation }}): {{ item.summary }} [Meer]({{ item.url }})
{% endfor %}
"""


class _Targets(HTMLParser):
    """Every address an element of the page points at (href, src), as a mail program reads them."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name in ("href", "src", "background", "action")]


def targets(page: str) -> list[str]:
    parser = _Targets()
    parser.feed(page)
    return parser.found


def evil(page: str) -> list[str]:
    """The addresses that lead to the submitter's host instead of one the campaign chose."""
    return [t for t in targets(page) if "evil.example" in (urlsplit(t).hostname or "")]


def _request(tmp_path: Path, link: str = "https://example.org/open-data") -> Path:
    lines = [
        "id: open-data",
        'organisation: "[Org](https://evil.example/org) <i>x</i>"',
        "contact_email: jane.doe@example.net",
        "ambition: skills",
        f'link: "{link}"',
        "title:",
        *(f"  {lang}: {_quoted(text)}" for lang, text in TITLE.items()),
        "description:",
        *(f"  {lang}: {_quoted(text)}" for lang, text in PAYLOADS.items()),
    ]
    path = tmp_path / "request.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.fixture
def camp(database_url: str, tmp_path: Path) -> Path:
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "initiatives: [code-school]", "initiatives: [code-school, open-data]")
    for lang in ("nl", "fr", "de", "en"):
        message = camp / "messages" / "hello" / f"youth.{lang}.md"
        text = message.read_text(encoding="utf-8")
        message.write_text(text[: text.index("{% for item in initiatives %}")] + BODY, encoding="utf-8")
    return camp


def _approve(camp: Path, request: Path) -> int:
    request_id = submit(request, camp).request.id
    review(request_id, approve=True, reason="fits", by="Ann", campaign_dir=camp)
    return request_id


@pytest.mark.parametrize("lang", ["nl", "fr", "de", "en"])
def test_submitted_markup_links_and_template_code_render_as_literal_text(camp: Path, tmp_path: Path, lang: str) -> None:
    _approve(camp, _request(tmp_path))
    segment = render_segment(assemble(load_bundle(camp)), "first", "youth", lang, "newsletter")
    page, text = segment.html, segment.text
    assert not evil(page), evil(page)
    assert not re.search(r"<(script|img|b|i|a)\\b[^>]*evil", page)
    assert "<script" not in page and "<b>gras" not in page and "<i>x" not in page
    assert "<strong>fett</strong>" not in page and "<em>kursiv</em>" not in page and "<code>code" not in page
    assert "1337" not in page and "wahr{%" not in page.replace("wahr{%", "")  # not run as a template
    assert any(t.startswith("https://example.org/open-data") for t in targets(page))  # the template's own link
    visible = html.unescape(re.sub(r"<[^>]+>", " ", page))
    # What the reader sees is the submission itself, character for character.
    for shown in (plain_text(PAYLOADS[lang]), plain_text(TITLE[lang]), "[Org](https://evil.example/org) <i>x</i>"):
        assert shown in visible, shown
        assert shown in text, shown


def test_a_link_that_tries_to_close_the_markdown_link_stays_one_link(camp: Path, tmp_path: Path) -> None:
    _approve(camp, _request(tmp_path, link="https://example.org/a)[x](https://evil.example/e"))
    page = render_segment(assemble(load_bundle(camp)), "first", "youth", "nl", "newsletter").html
    assert not evil(page), evil(page)
    [link] = [t for t in targets(page) if t.startswith("https://example.org/a")]
    assert link.startswith("https://example.org/a)%5Bx%5D(https://evil.example/e")  # one link, to example.org


def test_the_reviewer_sees_each_text_as_the_newsletter_shows_it(
    camp: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    request = _request(tmp_path)
    wavecast(capsys, "initiatives", "submit", str(request), "--campaign", str(camp))
    sign_in(monkeypatch, make_account("ann@example.org", Role.APPROVER)[1])  # who submitted does not review
    shown = wavecast(capsys, "initiatives", "review", "1")
    assert shown.code == 0, shown.err
    lines = dict(line.strip().split(": ", 1) for line in shown.out.splitlines() if line.startswith("  "))
    decided = wavecast(capsys, "initiatives", "review", "1", "--approve", "--reason", "fits", "--campaign", str(camp))
    assert decided.code == 0, decided.err
    for lang in ("nl", "fr", "de", "en"):
        text = render_segment(assemble(load_bundle(camp)), "first", "youth", lang, "newsletter").text
        assert lines[f"description ({lang})"] == plain_text(PAYLOADS[lang])
        assert lines[f"description ({lang})"] in text and lines[f"title ({lang})"] in text
    assert "\u202e" not in shown.out  # a bidi override would make the reviewer read another text
    assert lines["organisation"] == "[Org](https://evil.example/org) <i>x</i>"


@pytest.mark.parametrize(
    "text",
    [
        "[a](https://evil.example)",
        "<https://evil.example>",
        "<b>x</b>",
        "&amp;",
        "line\n\n# heading\n\n- item\n    code",
        "a  \nb\\",
        "*a* _b_ `c` ~~d~~",
        "1. first",
        "| a | b |\n|---|---|",
    ],
)
def test_markdown_literal_renders_as_the_plain_text(text: str) -> None:
    from markdown_it import MarkdownIt

    rendered = (
        MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).render(markdown_literal(text))
    )
    assert rendered.startswith("<p>") and rendered.count("<") == 2  # one paragraph, no other element
    assert html.unescape(rendered[3:-5]) == plain_text(text)
