"""What a message template sees: plain mappings and lists, in the message's language.

The context is campaign, wave, audience and language, the wave's highlighted initiatives
with their ambitions and KPIs, and a contact with only the declared personal fields.
Nothing else reaches a template (see ``campaign.render`` for the sandbox that enforces it).
Links and image addresses are computed here too, because templates and layouts share them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from campaign.bundle import Bundle
from campaign.link_words import page_language_note
from campaign.model import Campaign, Link
from campaign.segment_key import SegmentKey
from campaign.submitted_text import plain_text


def translated(spec: Campaign, texts: Mapping[Any, str] | None, lang: str) -> str:
    """A text in lang, else in the language it explicitly falls back to, else any."""
    if not texts:
        return ""
    if lang in texts:
        return texts[lang]
    fallback = spec.campaign.fallbacks.get(lang)
    if fallback in texts:
        return texts[fallback]
    return next(iter(texts.values()))


def asset_url(base_url: str, campaign_id: str, src: str) -> str:
    """An image src as the e-mail links it: absolute URLs stay, campaign files go under /assets/."""
    if src.startswith(("https://", "http://")):
        return src
    return urljoin(f"{base_url.rstrip('/')}/assets/{campaign_id}/", src)


def tag_url(url: str, hosts: frozenset[str] | None, source: str, medium: str, campaign: str, content: str) -> str:
    """The URL with utm_* parameters (existing utm_* replaced, other parameters kept).

    ``hosts=None`` tags any http(s) URL; otherwise only URLs on those hosts (the campaign's
    own sites), so partners' links are not rewritten.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or (hosts is not None and (parts.hostname or "") not in hosts):
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
    query += [("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign), ("utm_content", content)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def message_link(spec: Campaign, key: SegmentKey, cta: Link | None, medium: str) -> str:
    """Where a short message (a post, an SMS, a notification) points: the message's call to
    action, else the campaign's website in the message's language, UTM-tagged for its channel."""
    base = str(cta.url) if cta is not None else translated(spec, spec.campaign.website, key.lang)
    return tag_url(base, None, key.channel, medium, spec.campaign.id, key.slug)


def campaign_hosts(spec: Campaign) -> frozenset[str]:
    """The hosts of the campaign's websites: links there get UTM tags in newsletters."""
    return frozenset(urlsplit(url).hostname or "" for url in spec.campaign.website.values())


def template_context(bundle: Bundle, key: SegmentKey, start: dt.datetime, contact: Mapping[str, str]) -> dict[str, Any]:
    """The whole world a template sees, as plain mappings and lists."""
    spec = bundle.spec
    info = spec.campaign
    lang = key.lang
    wave = spec.wave(key.wave)
    audience = spec.audience(key.audience)
    ambitions: dict[str, dict[str, Any]] = {}
    initiatives = []
    for initiative_id in wave.initiatives:
        try:
            initiative = spec.initiative(initiative_id)
            ambition = spec.ambition(initiative.ambition)
        except KeyError:
            continue  # validation reports the unknown initiative with its line

        if ambition.id not in ambitions:
            ambitions[ambition.id] = {
                "id": ambition.id,
                "number": ambition.number,
                "title": translated(spec, ambition.title, lang),
                "kpis": [
                    {"id": k.id, "title": translated(spec, k.title, lang), "target": k.target, "unit": k.unit or ""}
                    for k in ambition.kpis
                ],
            }
        page, page_lang = initiative.page_for(lang)
        initiatives.append(
            {
                "id": initiative.id,
                # Initiatives may come from outside organisations: plain text, as the reviewer saw it.
                "title": plain_text(translated(spec, initiative.title, lang)),
                "summary": plain_text(translated(spec, initiative.summary, lang)),
                "url": page,
                # "(in Dutch)" for a page that is not in the reader's language, else empty.
                "language_note": page_language_note(lang, page_lang),
                "organisation": plain_text(initiative.organisation or ""),
                "ambition": ambitions[ambition.id],
            }
        )
    return {
        "lang": lang,
        "campaign": {
            "id": info.id,
            "name": translated(spec, info.name, lang),
            "website": translated(spec, info.website, lang),
            "hashtags": list(info.hashtags.get(lang, ())),
            "sender": info.sender.name_in(lang, info.fallbacks),
            "timezone": info.timezone,
        },
        "wave": {"id": wave.id, "title": translated(spec, wave.title, lang), "start": start},
        "audience": {
            "id": audience.id,
            "title": translated(spec, audience.title, lang),
            "description": translated(spec, audience.description, lang),
        },
        "initiatives": initiatives,
        "ambitions": list(ambitions.values()),
        "contact": dict(contact),
    }
