"""Social posts of one segment, per platform: text, hashtags, a UTM-tagged link, image alt
text, the platform's own length rule, and the exports social schedulers import."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import wcwidth

from campaign.channel_contract import RenderRequest
from campaign.channel_ids import LIMITS as CHANNEL_LIMITS
from campaign.channel_ids import ChannelLimits
from campaign.errors import Problem
from campaign.link_words import link_in_bio
from campaign.render import (
    RenderFailed,
    SegmentKey,
    Where,
    check_template,
    render,
    template_context,
)
from campaign.scheduler_dates import date_writer
from campaign.template_context import message_link

_STAND_IN = "https://example.org/"
_HASHTAG = re.compile(r"(?<![\w#])#\w+")


def _rules(platform: str) -> ChannelLimits:
    return CHANNEL_LIMITS[platform]


@dataclass(frozen=True, eq=False)
class SocialPost:
    """One post as it will be published on one platform."""

    key: SegmentKey
    message: str
    template: str
    file: str
    line: int
    body: str
    hashtags: tuple[str, ...]
    link: str
    image_url: str | None
    image_alt: str | None
    length: int
    limit: int
    hashtag_limit: int | None
    scheduled_at: dt.datetime
    content_hash: str
    images: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    link_words: str = ""  # what ends the post instead of the link where it cannot be clicked (Instagram)

    @property
    def platform(self) -> str:
        return self.key.channel

    @property
    def channel(self) -> str:
        return self.key.channel

    @property
    def message_text(self) -> str:
        """The post without its link: text and hashtags (a scheduler's Message column)."""
        return "\n\n".join(part for part in (self.body, " ".join(self.hashtags)) if part)

    @property
    def text(self) -> str:
        """The complete post: text, hashtags, link (or, on Instagram, where the link is)."""
        return "\n\n".join(part for part in (self.message_text, self.link_words or self.link) if part)

    @property
    def rule(self) -> str:
        return _rules(self.platform).length_rule

    @property
    def hashtag_count(self) -> int:
        return len(_HASHTAG.findall(self.message_text))  # not the link: a URL may end in #fragment

    @property
    def over_limit(self) -> bool:
        return self.length > self.limit or (self.hashtag_limit is not None and self.hashtag_count > self.hashtag_limit)

    def as_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "wave": self.key.wave,
            "audience": self.key.audience,
            "lang": self.key.lang,
            "message": self.message,
            "scheduled_at": self.scheduled_at.isoformat(),
            "text": self.text,
            "body": self.body,
            "hashtags": list(self.hashtags),
            "link": self.link,
            "image": None if self.image_url is None else {"url": self.image_url, "alt": self.image_alt},
            "length": self.length,
            "limit": self.limit,
            "length_rule": self.rule,
            "hashtag_count": self.hashtag_count,
            "hashtag_limit": self.hashtag_limit,
            "content_hash": self.content_hash,
        }


def post_length(platform: str, text: str) -> int:
    """The length the platform counts: X weighted (twitter-text), Mastodon with 23 per link,
    Bluesky in graphemes (Unicode's extended grapheme clusters, as its apps and PDS count)."""
    rules = CHANNEL_LIMITS.get(platform)  # the table of channels (campaign/channel_ids.py)
    if rules is not None and rules.graphemes:
        return sum(1 for _ in wcwidth.iter_graphemes(text))
    if rules is not None and rules.weighted:
        return _weighted(text)
    if rules is not None and rules.links_count is not None:
        import twitter_text  # 0.25 s to import: only the commands that measure posts pay it

        length = len(text)
        for found in twitter_text.extract_urls_with_indices(text):
            if found["url"].startswith(("http://", "https://")):
                start, end = found["indices"]
                length += rules.links_count - (end - start)
        return length
    return len(text)


@lru_cache(maxsize=4096)
def _weighted(text: str) -> int:
    import twitter_text  # see post_length

    return int(twitter_text.parse_tweet(text).weightedLength)


def build_social(request: RenderRequest) -> SocialPost:
    """Render one segment's post for key.channel; raises RenderFailed naming file and line."""
    bundle, key, message, start = request.bundle, request.key, request.message, request.start
    content_hash, asset = request.content_hash, request.asset
    spec = bundle.spec
    info = spec.campaign
    platform = key.channel
    mf = bundle.message(message.template, key.lang)
    source = bundle.message_sources.get(mf.path)
    name = platform if platform in mf.text.social else "default"
    if name not in mf.text.social:
        line = source.locate((), key=True)[0] if source is not None else 1
        raise RenderFailed(
            [
                Problem(
                    mf.path,
                    line,
                    1,
                    f"message {message.id!r} is sent on {platform} but has no post text: "
                    f"add social: {{{platform}: ...}} or social: {{default: ...}}",
                )
            ]
        )
    line, column = source.locate(("social", name)) if source is not None else (1, 1)
    where = Where(mf.path, line, column)
    problems = check_template(mf.text.social[name], where, personal=False)
    if problems:
        raise RenderFailed(problems)
    context = template_context(bundle, key, start, {})
    body = render(mf.text.social[name], context, where).strip()
    present = {tag.lower() for tag in _HASHTAG.findall(body)}
    hashtags = tuple(t for t in info.hashtags.get(key.lang, ()) if t.lower() not in present)
    link = message_link(spec, key, mf.text.cta, "social")
    image = mf.text.social_image or mf.text.image
    config = spec.channels.get(platform)
    rules = _rules(platform)
    limit = (config.limit if config is not None else None) or rules.limit or 0
    tag_limit = config.max_hashtags if config is not None and config.max_hashtags is not None else rules.max_hashtags
    stagger = dt.timedelta(minutes=config.stagger_minutes if config is not None else 0)
    images = () if image is None or image.src.startswith(("https://", "http://")) else (image.src,)
    post = SocialPost(
        key=key,
        message=message.id,
        template=message.template,
        file=mf.path,
        line=line,
        body=body,
        hashtags=hashtags,
        link=link,
        image_url=None if image is None else asset(image.src),
        image_alt=None if image is None else image.alt,
        length=0,
        limit=limit,
        hashtag_limit=tag_limit,
        scheduled_at=start + stagger,
        content_hash=content_hash,
        images=images,
        # Instagram makes no caption link clickable: the caption points to the profile's link.
        link_words=link_in_bio(info, key.lang) if platform == "instagram" else "",
    )
    # Every link counts the same on X and Mastodon, so measure with one stand-in link: the
    # (slow) weighted count is then computed once per text, not once per audience.
    measured = "\n\n".join(p for p in (post.message_text, _STAND_IN if link.startswith("https://") else link) if p)
    links_weighed = rules.weighted or rules.links_count is not None
    object.__setattr__(post, "length", post_length(platform, measured if links_weighed else post.text))
    found = []
    where_text = f"(wave {key.wave}, audience {key.audience})"
    if post.length > limit:
        found.append(
            where.problem(
                1,
                f"{platform} post is {post.length} characters ({post.rule}) with hashtags and link, "
                f"over the limit of {limit} {where_text}",
            )
        )
    if tag_limit is not None and post.hashtag_count > tag_limit:
        found.append(
            where.problem(
                1, f"{platform} post has {post.hashtag_count} hashtags, over the limit of {tag_limit} {where_text}"
            )
        )
    size = len(post.text.encode())
    if rules.max_bytes is not None and size > rules.max_bytes:
        over = f"{platform} post is {size} bytes, over the limit of {rules.max_bytes} {where_text}"
        found.append(where.problem(1, over))
    if found:
        object.__setattr__(post, "problems", tuple(found))
    return post


def to_jsonl(posts: Iterable[SocialPost]) -> str:
    """One JSON object per line, for tools and for publishers."""
    return "".join(json.dumps(p.as_json(), ensure_ascii=False, sort_keys=True) + "\n" for p in posts)


def _cell(value: str) -> str:
    # A spreadsheet would run a cell starting with = + - @ (or a tab/CR) as a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(posts: Iterable[SocialPost], date_format: str | None = None) -> str:
    """A bulk-scheduling CSV (Date, Message, Link), local time of the campaign, formulas neutralised.

    date_format is a preset or a strftime pattern (campaign/scheduler_dates.py), for the
    scheduler the file is for."""
    write_date = date_writer(date_format)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Date", "Message", "Link"])
    for post in posts:
        writer.writerow([write_date(post.scheduled_at), _cell(post.message_text), _cell(post.link)])
    return out.getvalue()
