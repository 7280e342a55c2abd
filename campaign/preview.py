"""The whole matrix as files a marketer can open: per wave x audience x language the
newsletter (.html, .txt, .eml) and per platform the social post (.json), the exports for
social schedulers, the images, and an index.html gallery that works offline."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment

from campaign.bundle import Bundle
from campaign.channel_ids import platforms
from campaign.errors import WavecastError
from campaign.mime import message_id
from campaign.newsletter import NewsletterSegment
from campaign.render import RenderFailed, translated
from campaign.scheduler_dates import date_writer
from campaign.segment import Assets, Matrix, render_matrix
from campaign.segment_key import SegmentKey
from campaign.settings import get_settings
from campaign.social import SocialPost, to_csv, to_jsonl
from campaign.timing import resolve_starts


@dataclass(frozen=True)
class PreviewResult:
    outdir: Path
    files: int
    newsletters: int
    posts: int


def sample_message(segment: NewsletterSegment, bundle: Bundle) -> bytes:
    """The .eml a sample contact of the segment's audience would receive, dated at the wave's start."""
    info = bundle.spec.campaign
    domain = info.sender.address.rpartition("@")[2]
    key = segment.key
    return segment.personalise(
        to=f"preview@{domain}",
        fields=segment.sample,
        unsubscribe_url=segment.sample_unsubscribe_url,
        message_id=message_id(info.id, key.wave, f"preview-{key.audience}-{key.lang}", "newsletter", domain),
        date=resolve_starts(bundle.spec)[key.wave],
    )


def offline_html(segment: NewsletterSegment, bundle: Bundle, prefix: str = "../") -> str:
    """The sample newsletter with campaign images linked relative to the preview folder."""
    base = f"{get_settings().base_url}/assets/{bundle.spec.campaign.id}/"
    return segment.html.replace(base, prefix)


def _name(key: SegmentKey) -> str:
    return f"{key.wave}/{key.audience}.{key.lang}.{key.channel}"


def _write(path: Path, data: bytes | str) -> None:
    """Write through a temporary file, so a file is either the old or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_preview(
    bundle: Bundle, outdir: Path, date_format: str | None = None, done: Callable[[int, int], None] | None = None
) -> PreviewResult:
    """Write every output of the campaign under outdir, plus index.html and manifest.json.

    date_format: how the scheduler CSVs write dates (campaign/scheduler_dates.py);
    done(n, total): how many of the outputs are written so far (a progress bar)."""
    date_writer(date_format)  # a bad format is refused before anything is written
    matrix = render_matrix(bundle)
    errors = [p for p in matrix.problems if p.severity == "error"]
    if errors:
        raise RenderFailed(errors)
    try:
        return _write_all(bundle, matrix, outdir, date_format, done)
    except OSError as exc:
        raise WavecastError(f"{exc.filename or outdir}: cannot write: {exc.strerror}") from None


def scheduler_files(matrix: Matrix) -> dict[str, list[SocialPost]]:
    """The posts of each bulk-scheduling CSV, by file name: one per platform and language, as
    each language is published from its own account (a scheduler imports a file into one)."""
    files: dict[str, list[SocialPost]] = {}
    for platform in platforms():
        for post in matrix.posts(platform):
            files.setdefault(f"{platform}.{post.key.lang}.csv", []).append(post)
    return files


def _write_all(
    bundle: Bundle, matrix: Matrix, outdir: Path, date_format: str | None, done: Callable[[int, int], None] | None
) -> PreviewResult:
    files = 0
    manifest = []
    images: set[str] = set()
    for count, (key, output) in enumerate(matrix.outputs.items(), 1):
        if done is not None:
            done(count, len(matrix.outputs))
        stem = outdir / _name(key)
        images.update(output.images)
        if isinstance(output, NewsletterSegment):
            written: dict[str, bytes | str] = {
                ".html": offline_html(output, bundle),
                ".txt": output.text,
                ".eml": sample_message(output, bundle),
            }
        else:
            written = {".json": json.dumps(output.as_json(), ensure_ascii=False, indent=2) + "\n"}
        for suffix, data in written.items():
            _write(stem.with_name(stem.name + suffix), data)
            manifest.append({"file": _name(key) + suffix, "content_hash": output.content_hash})
            files += 1
    for platform in platforms():
        posts = matrix.posts(platform)
        if posts:
            _write(outdir / "social" / f"{platform}.jsonl", to_jsonl(posts))
            files += 1
    for name, posts in scheduler_files(matrix).items():
        _write(outdir / "social" / name, to_csv(posts, date_format))
        files += 1
    assets = Assets(bundle, get_settings().base_url)
    for src in sorted(images):
        path, image = assets.path(src), assets.read(src)
        if path is not None and image is not None:
            _write(outdir / path.relative_to(assets.root), image)
            files += 1
    _write(
        outdir / "manifest.json",
        json.dumps(
            {"campaign": bundle.spec.campaign.id, "content_hash": bundle.content_hash(), "files": manifest}, indent=2
        )
        + "\n",
    )
    _write(outdir / "index.html", gallery(bundle, matrix))
    return PreviewResult(outdir, files + 2, len(matrix.newsletters()), len(matrix.posts()))


_GALLERY = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string("""\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ name }}: preview</title>
<style>
body { font: 16px/1.5 system-ui, Arial, sans-serif; margin: 0 auto; max-width: 1200px; padding: 24px;
       color: #1f2933; }
h1 { color: #12355b; margin-bottom: 0; }
h2 { color: #12355b; margin-top: 40px; border-bottom: 3px solid #f2b705; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #d5dae1; padding: 8px; vertical-align: top; text-align: left; }
th { background: #eef1f5; }
td { font-size: 14px; }
.subject { font-weight: bold; display: block; margin-bottom: 4px; }
a { color: #0b5cad; }
.over { color: #b00020; font-weight: bold; }
.muted { color: #5b6472; }
ul { margin: 4px 0; padding-left: 18px; }
.thumb { display: block; width: 100%; max-width: 240px; height: auto; border: 1px solid #d5dae1; margin: 4px 0; }
a.newsletter { text-decoration: none; }
.post { border: 1px solid #d5dae1; border-radius: 8px; padding: 6px 8px; margin: 8px 0; background: #fbfcfd; }
.post header { display: flex; gap: 8px; align-items: baseline; }
.post p { white-space: pre-wrap; word-break: break-word; margin: 4px 0 0; }
@media (max-width: 700px) { table, tbody, tr, th, td { display: block; width: auto; } thead { display: none; }
  td::before { content: attr(lang); font-weight: bold; } }
</style>
</head>
<body>
<h1>{{ name }}</h1>
<p class="muted">{{ campaign_id }} · content {{ content_hash[:12] }} ·
{{ newsletters }} newsletters, {{ posts }} social posts. Exports for schedulers:
{% for p in platforms %}
{{ p.name }}: {% for lang in p.langs %}<a href="social/{{ p.name }}.{{ lang }}.csv" hreflang="{{ lang }}">{{ lang }}</a>
{% endfor %}(<a href="social/{{ p.name }}.jsonl">jsonl</a>){{ "; " if not loop.last }}
{% endfor %}
</p>
{% for wave in waves %}
<section>
<h2 id="{{ wave.id }}">{{ wave.title }} <span class="muted">({{ wave.id }}, {{ wave.start }})</span></h2>
<table>
<thead><tr><th scope="col">Audience</th>
{% for lang in langs %}<th scope="col" lang="{{ lang }}">{{ lang }}</th>{% endfor %}
</tr></thead>
<tbody>
{% for row in wave.rows %}
<tr><th scope="row">{{ row.title }}<br><span class="muted">{{ row.id }}</span></th>
{% for cell in row.cells %}
<td lang="{{ cell.lang }}">
{% set n = cell.newsletter %}
{% if n %}
<a class="newsletter" href="{{ n.base }}.html">
{% if n.thumbnail %}<img class="thumb" src="{{ n.thumbnail }}" alt="" loading="lazy">{% endif %}
<span class="subject">{{ n.subject }}</span></a>
<a href="{{ n.base }}.txt">text</a> · <a href="{{ n.base }}.eml">.eml</a> · {{ n.kb }} KB
{% endif %}
{% for post in cell.posts %}
<article class="post">
<header><strong>{{ post.platform }}</strong>
<span class="{{ 'over' if post.over else 'muted' }}">{{ post.length }}/{{ post.limit }}</span>
<a class="muted" href="{{ post.base }}.json">json</a></header>
{% if post.thumbnail %}<img class="thumb" src="{{ post.thumbnail }}" alt="{{ post.alt }}" loading="lazy">{% endif %}
<p>{{ post.text }}</p>
</article>
{% endfor %}
{% if not cell.newsletter and not cell.posts %}<span class="muted">–</span>{% endif %}
</td>
{% endfor %}
</tr>
{% endfor %}
</tbody>
</table>
</section>
{% endfor %}
</body>
</html>
""")


def gallery(bundle: Bundle, matrix: Matrix) -> str:
    """index.html: per wave, a grid of audience x language linking to every output."""
    spec = bundle.spec
    starts = resolve_starts(spec)
    langs = list(spec.campaign.languages)
    assets = Assets(bundle, get_settings().base_url)
    waves = []
    for wave in spec.waves:
        rows = []
        for audience in spec.audiences:
            cells = []
            for lang in langs:
                outputs = [o for k, o in matrix.outputs.items() if k[:3] == (wave.id, audience.id, lang)]
                newsletter, posts = _newsletter_cell(outputs, assets), _post_cells(outputs, assets)
                cells.append({"lang": lang, "newsletter": newsletter, "posts": posts})
            if any(c["newsletter"] or c["posts"] for c in cells):
                rows.append({"id": audience.id, "title": translated(spec, audience.title, "en"), "cells": cells})
        waves.append(
            {
                "id": wave.id,
                "title": translated(spec, wave.title, "en"),
                "start": starts[wave.id].strftime("%a %d %b %Y %H:%M %Z"),
                "rows": rows,
            }
        )
    return _GALLERY.render(
        name=translated(spec, spec.campaign.name, "en"),
        campaign_id=spec.campaign.id,
        content_hash=bundle.content_hash(),
        newsletters=len(matrix.newsletters()),
        posts=len(matrix.posts()),
        langs=langs,
        waves=waves,
        platforms=[
            {"name": p, "langs": list(dict.fromkeys(post.key.lang for post in matrix.posts(p)))}
            for p in platforms()
            if matrix.posts(p)
        ],
    )


def _thumbnail(images: Iterable[str], assets: Assets) -> str | None:
    """The first of an output's images that the preview folder holds (written beside the pages)."""
    return next((src for src in images if assets.path(src) is not None), None)


def _newsletter_cell(outputs: Iterable[object], assets: Assets) -> dict[str, object] | None:
    for output in outputs:
        if isinstance(output, NewsletterSegment):
            return {
                "base": _name(output.key),
                "subject": output.subject,
                "kb": round(output.html_bytes / 1024),
                "thumbnail": _thumbnail(output.images, assets),
            }
    return None


def _post_cells(outputs: Iterable[object], assets: Assets) -> list[dict[str, object]]:
    return [
        {
            "base": _name(o.key),
            "platform": o.platform,
            "length": o.length,
            "limit": o.limit,
            "over": o.over_limit,
            "text": o.text,
            "thumbnail": _thumbnail(o.images, assets),
            "alt": o.image_alt or "",
        }
        for o in outputs
        if isinstance(o, SocialPost)
    ]
