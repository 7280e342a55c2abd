"""The newsletter of one segment: Markdown body, MJML layout, inlined CSS, a text part
written for reading, the size check, and the per-recipient ``personalise``.

Everything expensive happens in ``build_newsletter``, once per wave x audience x language.
The personal fields and the unsubscribe link are rendered as unique placeholder tokens;
the outputs are then cut at those tokens (``mime.Parts``), and ``personalise`` only joins
precomputed pieces with the recipient's values, HTML-escaped in the HTML part and as they
are in the text part and the subject. That is why templates may write personal fields
only bare (``{{ contact.first_name }}``): see ``render.check_template``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import css_inline
import mrml
import yaml
from jinja2 import FileSystemLoader
from markupsafe import Markup, escape

from campaign.bundle import Bundle
from campaign.channel_contract import RenderRequest
from campaign.clicks import tracked_url  # counts clicks per segment, never per person
from campaign.errors import Problem, WavecastError, rel
from campaign.layout_strings import NAME_FALLBACKS, NAME_KEYS, REGISTERS, colon, register_for, texts_for
from campaign.markdown_body import Body, markdown_body, source_line
from campaign.mime import ListIdentity, MimeTemplate, Parts, UnsafeHeader, check_header
from campaign.model import CampaignInfo, Message
from campaign.render import (
    PERSONAL_FIELDS,
    RENDER_ERRORS,
    RenderFailed,
    SegmentKey,
    WavecastSandbox,
    Where,
    check_template,
    describe,
    render,
    tag_url,
    template_context,
)
from campaign.submitted_text import literal_initiatives
from campaign.template_context import translated

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
LAYOUT_DIR = TEMPLATES_DIR / "newsletter"
GMAIL_CLIP_BYTES = 102 * 1024
# Neutral sample contacts for previews, when an audience declares no `sample`.
SAMPLES: dict[str, dict[str, str]] = {
    "nl": {"first_name": "Sam", "organisation_name": "Voorbeeld vzw"},
    "fr": {"first_name": "Camille", "organisation_name": "Exemple asbl"},
    "de": {"first_name": "Kim", "organisation_name": "Beispiel VoG"},
    "en": {"first_name": "Alex", "organisation_name": "Example Ltd"},
}


def _tokens(nonce: str) -> tuple[str, ...]:
    # Letters and digits only: Markdown, mrml and the inliner leave them untouched.
    return (*(f"Wc{nonce}F{i}x" for i in range(len(PERSONAL_FIELDS))), f"Wc{nonce}Ux")


# ---------------------------------------------------------------------------- the layout


@dataclass(frozen=True)
class Layout:
    """The newsletter layout files, read once, with the hash of their contents."""

    html_env: WavecastSandbox
    text_env: WavecastSandbox
    strings: dict[str, dict[str, str]]
    styles: str
    digest: str


@cache
def _layout_cached(directory: Path, stamp: tuple[tuple[str, int, int], ...]) -> Layout:
    digest = hashlib.sha256()
    for path in sorted(directory.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    loader = FileSystemLoader(str(directory))
    strings = yaml.safe_load((directory / "strings.yaml").read_text(encoding="utf-8"))
    return Layout(
        WavecastSandbox(autoescape=True, loader=loader),
        WavecastSandbox(autoescape=False, loader=loader),
        strings,
        (directory / "style.css").read_text(encoding="utf-8"),
        digest.hexdigest(),
    )


def layout(directory: Path = LAYOUT_DIR) -> Layout:
    """The layout, re-read when a file in it changes (the preview follows edits)."""
    stamp = tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.iterdir()) if p.is_file())
    return _layout_cached(directory, stamp)


# ---------------------------------------------------------------------------- the segment


@dataclass(frozen=True, eq=False)
class NewsletterSegment:
    """One segment's newsletter, rendered once; ``personalise`` makes each recipient's copy."""

    key: SegmentKey
    message: str
    template: str
    file: str
    content_hash: str
    subject_parts: Parts
    preheader_parts: Parts
    html_parts: Parts
    text_parts: Parts
    mime: MimeTemplate
    sample: Mapping[str, str]
    sample_unsubscribe_url: str
    images: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()

    channel = "newsletter"

    def render(
        self, fields: Mapping[str, str] | None = None, unsubscribe_url: str | None = None
    ) -> tuple[str, str, str]:
        """(subject, html, text) for one set of personal fields; the sample contact by default."""
        raw = self.mime.values(self.sample if fields is None else fields)
        raw.append(unsubscribe_url or self.sample_unsubscribe_url)
        escaped = [html.escape(v) for v in raw]
        return self.subject_parts.fill(raw), self.html_parts.fill(escaped), self.text_parts.fill(raw)

    def _sample(self, escape: bool = False) -> list[str]:
        values = [*self.mime.values(self.sample), self.sample_unsubscribe_url]
        return [html.escape(v) for v in values] if escape else values

    @property
    def subject(self) -> str:
        """The subject as the audience's sample contact gets it."""
        return self.subject_parts.fill(self._sample())

    @property
    def preheader(self) -> str:
        return self.preheader_parts.fill(self._sample())

    @property
    def html(self) -> str:
        return self.html_parts.fill(self._sample(escape=True))

    @property
    def text(self) -> str:
        return self.text_parts.fill(self._sample())

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))

    def personalise(
        self,
        to: str,
        fields: Mapping[str, str],
        unsubscribe_url: str,
        message_id: str,
        test: bool = False,
        date: dt.datetime | None = None,
    ) -> bytes:
        """The complete RFC 5322 message (CRLF) for one recipient, ready for SMTP.

        Raises UnsafeHeader when a value would break a header (a line break in a name...).
        ``test`` prefixes the subject with "[TEST] " for proof sends.
        """
        return self.mime.build(to, fields, unsubscribe_url, message_id, test=test, date=date)


_TAG = re.compile(r"<[^>]*>")
_ATTR = re.compile(r"""([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
_TEXT_ATTRS = {"alt", "title", "aria-label"}


def _misplaced_fields(page: str, fields: tuple[str, ...]) -> bool:
    """True when a personal field landed in a link, a style or another attribute that
    escaping alone cannot make safe (text and alt/title/aria-label are fine)."""
    for tag in _TAG.finditer(page):
        text = tag.group()
        if not any(t in text for t in fields):
            continue
        for name, value in _ATTR.findall(text):
            if any(t in value for t in fields) and name.lower() not in _TEXT_ATTRS:
                return True
    return False


@dataclass(frozen=True)
class Rendered:
    """One newsletter rendered for one set of personal values (or for placeholder tokens)."""

    subject: str
    preheader: str
    html: str
    text: str
    images: tuple[str, ...]
    problems: tuple[Problem, ...]


def render_newsletter(
    bundle: Bundle,
    key: SegmentKey,
    message: Message,
    start: dt.datetime,
    *,
    base_url: str,
    hosts: frozenset[str],
    asset: Callable[[str], str],
    contact: Mapping[str, str],
    unsubscribe_url: str,
) -> Rendered:
    """Jinja, Markdown, layout, mrml and inlining for one contact: the expensive part.

    ``build_newsletter`` calls it once per segment with placeholder tokens; calling it per
    recipient with real values is what the benchmark compares against.
    """
    info = bundle.spec.campaign
    mf = bundle.message(message.template, key.lang)
    source = bundle.message_sources.get(mf.path)

    def where(*path: str) -> Where:
        line, col = source.locate(path) if source is not None else (1, 1)
        return Where(mf.path, line, col)

    problems = [
        *check_template(mf.text.subject, where("subject"), personal=True),
        *check_template(mf.text.preheader, where("preheader"), personal=True),
        *check_template(mf.body, Where(mf.path, mf.body_line), personal=True),
    ]
    if problems:
        raise RenderFailed(problems)
    context = template_context(bundle, key, start, contact)
    subject = render(mf.text.subject, context, where("subject")).strip()
    preheader = render(mf.text.preheader, context, where("preheader")).strip()
    # The body is Markdown: initiative texts go in as literals, so no submission becomes a link or markup.
    body_md = render(mf.body, literal_initiatives(context), Where(mf.path, mf.body_line))
    try:
        check_header("subject", subject)
    except UnsafeHeader as exc:
        raise RenderFailed([where("subject").problem(1, f"subject {exc.reason}")]) from None
    personal = [v for v in (*contact.values(), unsubscribe_url) if v]

    def measure(text: str) -> int:
        # Heading underlines match the heading without the per-recipient values.
        return len(re.sub("|".join(re.escape(v) for v in personal), "", text)) if personal else len(text)

    link_problems: list[Problem] = []

    def link(url: str) -> str:
        tagged = tag_url(url, hosts, "newsletter", "email", info.id, key.slug)
        if not info.click_tracking or not tagged.startswith(("https://", "http://")):
            return tagged
        try:
            return tracked_url(info.id, key.wave, key.audience, key.lang, tagged, base_url)
        except WavecastError as exc:
            link_problems.append(Problem(mf.path, source_line(mf, url, 0), 1, str(exc)))
            return tagged

    body = markdown_body(mf, body_md, link, asset, measure)
    image = mf.text.image
    cta = mf.text.cta
    extra: dict[str, Any] = {
        "subject": subject,
        "preheader": preheader,
        "image": None if image is None else {"src": asset(image.src), "alt": image.alt, "width": image.width},
        "cta": None if cta is None else {"label": cta.label, "url": link(str(cta.url))},
        "unsubscribe_url": unsubscribe_url,
        "sender_address": info.sender.address,
        "register": register_for(bundle.spec, key.audience, key.lang),
        "colon": colon(key.lang),
        "view_url": view_url(base_url, info.id, key),
    }
    # The unsubscribe page and the preference centre speak to the reader as the newsletter did;
    # the List-Unsubscribe header keeps the bare address. The link names the register when it is
    # informal, or when the audience is formal where the campaign is not (the preference centre
    # takes the campaign's register when the link names none).
    formal = REGISTERS.get(key.lang, ("",))[0]
    named = extra["register"] != formal or info.register_.get(key.lang, formal) != formal
    extra["unsubscribe_query"] = f"?register={extra['register']}" if named else ""
    if image is not None and not image.src.startswith(("https://", "http://")):
        body.images.append(image.src)
    page, text = _layout_outputs(info, context | extra, body)
    return Rendered(subject, preheader, page, text, tuple(dict.fromkeys(body.images)), (*body.problems, *link_problems))


def build_newsletter(request: RenderRequest) -> NewsletterSegment:
    """Render one segment's newsletter with placeholder tokens and cut it at them; raises
    RenderFailed with the file and line of a fault."""
    bundle, key, message, start = request.bundle, request.key, request.message, request.start
    base_url, content_hash, hosts, asset = request.base_url, request.content_hash, request.hosts, request.asset
    info = bundle.spec.campaign
    mf = bundle.message(message.template, key.lang)
    tokens = _tokens(hashlib.sha256(b"slots" + content_hash.encode()).hexdigest()[:12])
    fields = tokens[:-1]
    out = render_newsletter(
        bundle,
        key,
        message,
        start,
        base_url=base_url,
        hosts=hosts,
        asset=asset,
        contact=dict(zip(PERSONAL_FIELDS, fields, strict=True)),
        unsubscribe_url=tokens[-1],
    )
    problems = list(out.problems)
    if _misplaced_fields(out.html, fields):
        line = next(
            (mf.body_line + i for i, text in enumerate(mf.body.split("\n")) if "contact." in text and "](" in text),
            source_line(mf, "contact.", 0),
        )
        problems.append(
            Problem(
                mf.path,
                line,
                1,
                "a personal field is used inside a link, image address or style; use it only in running text",
            )
        )
    subject, text, page = Parts.split(out.subject, tokens), Parts.split(out.text, tokens), Parts.split(out.html, tokens)
    segment = NewsletterSegment(
        key=key,
        message=message.id,
        template=message.template,
        file=mf.path,
        content_hash=content_hash,
        subject_parts=subject,
        preheader_parts=Parts.split(out.preheader, tokens),
        html_parts=page,
        text_parts=text,
        mime=MimeTemplate(
            sender_name=info.sender.name_in(key.lang, info.fallbacks),
            sender_address=info.sender.address,
            reply_to=info.sender.reply_to_in(key.lang, info.fallbacks),
            lang=key.lang,
            content_hash=content_hash,
            identity=ListIdentity(info.id, translated(bundle.spec, info.name, key.lang), key.wave, key.audience),
            subject=subject,
            text=text,
            html_body=page,
            fields=PERSONAL_FIELDS,
            fallbacks=name_fallbacks(info, key.lang, register_for(bundle.spec, key.audience, key.lang)),
        ),
        sample=sample_fields(bundle, key.audience, key.lang),
        sample_unsubscribe_url=f"{base_url}/u/preview",
        images=out.images,
    )
    size = segment.html_bytes
    if size > GMAIL_CLIP_BYTES:
        problems.append(
            Problem(
                mf.path,
                mf.body_line,
                1,
                f"the newsletter's HTML is {size / 1024:.0f} KB; Gmail clips "
                f"messages above {GMAIL_CLIP_BYTES // 1024} KB: shorten the text",
            )
        )
    return _with_problems(segment, problems)


def _with_problems(segment: NewsletterSegment, problems: list[Problem]) -> NewsletterSegment:
    if not problems:
        return segment
    object.__setattr__(segment, "problems", tuple(problems))
    return segment


def view_url(base_url: str, campaign_id: str, key: SegmentKey) -> str:
    """The segment's hosted copy ("view in browser"): the same for every reader of it."""
    return f"{base_url}/v/{campaign_id}/{key.wave}/{key.audience}/{key.lang}"


def name_fallbacks(info: CampaignInfo, lang: str, register: str = "") -> tuple[str, str]:
    """What stands in for a missing first name and organisation, in the message's language.
    Validation refuses a language without them; English only keeps a bare render working."""
    texts = texts_for(info, lang, layout().strings, register)
    english = NAME_FALLBACKS["en"]
    return texts.get(NAME_KEYS[0], english[0]), texts.get(NAME_KEYS[1], english[1])


def _layout_outputs(info: CampaignInfo, context: dict[str, Any], body: Body) -> tuple[str, str]:
    """Layout + mrml + inlining for the HTML; the text layout for the text part."""
    look = layout()
    # The campaign's own texts first (campaign.layout_strings), then strings.yaml's; validation
    # has made sure every key is there in every language the campaign declares.
    strings = texts_for(info, str(context["lang"]), look.strings, str(context.get("register", "")))
    data = context | {
        "strings": strings,
        # Both are ours, not campaign input: the layout's CSS file, and markdown-it's HTML,
        # which escapes every character of the message that is not Markdown.
        "styles": Markup(look.styles),  # noqa: S704
        "body_html": Markup(body.html),  # noqa: S704
        "body_text": body.text,
    }
    # The message's own texts go into the MJML as slot names and into mrml's HTML afterwards,
    # escaped: mrml parses only the layout's markup, so nothing a person writes can break the
    # layout's parse (an error would name the layout, not their file) or add MJML of its own.
    slots = _Slots()
    mjml_data = data | {
        "subject": slots.add(escape(data["subject"])),
        "preheader": slots.add(escape(data["preheader"])),
        "body_html": slots.add(data["body_html"]),
    }
    if data.get("image"):
        # mrml writes a no-break space in an attribute as "\u{a0}": French alt text has them.
        mjml_data["image"] = data["image"] | {"alt": slots.add(escape(data["image"]["alt"]))}
    name = "layout.mjml.j2"
    try:
        mjml = look.html_env.get_template(name).render(mjml_data)
        name = "text.txt.j2"
        text = look.text_env.get_template(name).render(data)
    except RENDER_ERRORS as exc:
        raise RenderFailed(
            [Problem(rel(LAYOUT_DIR / name), getattr(exc, "lineno", None) or 1, 1, describe(exc))]
        ) from None
    try:
        output = mrml.to_html(mjml, render_options=mrml.RenderOptions(disable_comments=True, fonts={}))
        page = _landmark(_INLINER.inline(slots.fill(output.content)))
    except (OSError, ValueError, css_inline.InlineError) as exc:  # mrml reports MJML errors as OSError
        raise RenderFailed([Problem(rel(LAYOUT_DIR / "layout.mjml.j2"), 1, 1, f"layout: {exc}")]) from None
    return page, text.strip("\n") + "\n"


_BODY = re.compile(r"(<body\b[^>]*>)(.*)(</body>)", re.S)


def _landmark(page: str) -> str:
    """The whole newsletter inside one <main>: MJML has no landmark of its own, and a screen
    reader (or a hosted copy in a browser) should find where the content is."""
    wrapped, count = _BODY.subn(lambda m: f"{m.group(1)}<main>{m.group(2)}</main>{m.group(3)}", page, count=1)
    if count != 1:
        raise ValueError("mrml gave no <body>")
    return wrapped


class _Slots:
    """Placeholders for text that must not pass through mrml, filled in after it ran."""

    def __init__(self) -> None:
        # Random per render, so no message can contain (and so forge or break) a slot name.
        self.nonce = secrets.token_hex(8)
        self.values: dict[str, str] = {}

    def add(self, value: str) -> Markup:
        name = f"Wc{self.nonce}S{len(self.values)}x"
        self.values[name] = str(value)
        return Markup(name)  # noqa: S704 -- letters and digits only

    def fill(self, page: str) -> str:
        """``page`` with every slot replaced in one pass, so a value is never scanned again."""
        for name in self.values:
            if name not in page:
                raise ValueError(f"mrml dropped slot {name}: the layout must show every slot")
        return re.sub(f"Wc{self.nonce}S[0-9]+x", lambda m: self.values[m.group()], page)


_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def sample_fields(bundle: Bundle, audience_id: str, lang: str) -> dict[str, str]:
    """The preview contact: the audience's `sample`, completed by a neutral one per language."""
    sample = dict(SAMPLES.get(lang, SAMPLES["en"]))
    sample.update({k: v for k, v in bundle.spec.audience(audience_id).sample.items() if k in PERSONAL_FIELDS})
    return sample
