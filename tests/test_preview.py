"""`wavecast preview`: one output on the terminal, or the whole matrix as files with a gallery."""

from __future__ import annotations

import json
import re
from email import message_from_bytes, policy
from html import escape as html_escape
from pathlib import Path

import pytest

from campaign.bundle import load_bundle
from campaign.preview import write_preview
from campaign.segment import segment_keys
from tests.campaign_copy import MINIMAL, copy_campaign, edit
from tests.cli import wavecast
from tests.conftest import SMARTNATION


def test_single_newsletter_prints_subject_headers_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(
        capsys,
        "preview",
        str(MINIMAL),
        "--wave",
        "first",
        "--audience",
        "youth",
        "--lang",
        "fr",
        "--channel",
        "newsletter",
    )
    assert result.code == 0, result.err
    head, _, text = result.out.partition("\n\n")
    assert "Subject: Hello youth (fr)" in head
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in head
    assert "Content-Language: fr" in head
    assert text.startswith("Hello Camille,")  # the neutral French sample contact


def test_single_newsletter_html(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(
        capsys,
        "preview",
        str(MINIMAL),
        "--wave",
        "first",
        "--audience",
        "youth",
        "--lang",
        "de",
        "--channel",
        "newsletter",
        "--html",
    )
    assert result.code == 0
    assert result.out.startswith("<!DOCTYPE html>") and '<html lang="de"' in result.out


def test_single_social_post_shows_its_length_against_the_limit(capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(
        capsys, "preview", str(MINIMAL), "--wave", "first", "--audience", "citizens", "--lang", "en", "--channel", "x"
    )
    assert result.code == 0
    assert result.out.startswith("A post for all in en.\n\n#Mini\n\nhttps://example.org/en?utm_source=x")
    assert "length: 53 / 280 (weighted, links count 23): ok" in result.out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--wave", "first"], "missing --audience, --lang, --channel"),
        (["--wave", "nope", "--audience", "youth", "--lang", "nl", "--channel", "x"], "unknown wave 'nope'"),
        (["--wave", "second", "--audience", "youth", "--lang", "nl", "--channel", "x"], "no message of wave 'second'"),
        (["--wave", "first", "--out", "x"], "either --out"),
    ],
)
def test_bad_choice_is_a_clear_error(capsys: pytest.CaptureFixture[str], args: list[str], message: str) -> None:
    result = wavecast(capsys, "preview", str(MINIMAL), *args)
    assert result.code == 1
    assert message in result.err


def test_out_writes_the_whole_matrix_and_a_gallery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    camp = copy_campaign(tmp_path)
    (camp / "images").mkdir()
    (camp / "images" / "first.png").write_bytes(b"\x89PNG\r\n\x1a\nbanner")
    edit(camp / "messages/hello/youth.nl.md", 'src: "https://example.org/banner.png"', 'src: "images/first.png"')
    out = tmp_path / "preview"
    result = write_preview(load_bundle(camp), out)
    bundle = load_bundle(camp)
    keys = list(segment_keys(bundle.spec))
    for key in keys:
        stem = out / key.wave / f"{key.audience}.{key.lang}.{key.channel}"
        suffixes = (".html", ".txt", ".eml") if key.channel == "newsletter" else (".json",)
        for suffix in suffixes:
            assert stem.with_name(stem.name + suffix).is_file(), (key, suffix)
    assert result.newsletters == sum(k.channel == "newsletter" for k in keys)
    index = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'href="([^"]+)"', index)
    assert links and all((out / link).is_file() for link in links)
    assert sum(link.endswith(".html") for link in links) == result.newsletters
    # Images are copied and linked relative to the preview, so the gallery works offline.
    html = (out / "first" / "youth.nl.newsletter.html").read_text(encoding="utf-8")
    assert 'src="../images/first.png"' in html and (out / "images" / "first.png").is_file()
    eml = message_from_bytes((out / "first" / "youth.nl.newsletter.eml").read_bytes(), policy=policy.default)
    body = eml.get_body(("html",))
    assert body is not None and "/assets/mini/images/first.png" in body.get_content()  # what is sent stays absolute
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["files"]) == result.newsletters * 3 + result.posts
    assert (out / "social" / "x.nl.csv").read_text(encoding="utf-8").startswith("Date,Message,Link")
    # The gallery shows the banner as a thumbnail, and each post as a card with its text.
    thumbnails = re.findall(r'<img class="thumb" src="([^"]+)"', index)
    assert "images/first.png" in thumbnails and all((out / src).is_file() for src in thumbnails)
    post = json.loads((out / "first" / "youth.nl.x.json").read_text(encoding="utf-8"))
    assert html_escape(post["text"]) in index


def test_cli_out_on_the_example(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    directory = SMARTNATION if (SMARTNATION / "campaign.yaml").exists() else MINIMAL
    result = wavecast(capsys, "preview", str(directory), "--out", str(tmp_path / "out"))
    assert result.code == 0, result.err
    assert "wrote" in result.out and (tmp_path / "out" / "index.html").is_file()


def test_unwritable_outdir_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    result = wavecast(capsys, "preview", str(MINIMAL), "--out", str(blocker / "out"))
    assert result.code == 1
    assert "cannot write" in result.err
