"""Segments: which message serves a wave x audience x channel, and rendering each segment
once per loaded campaign.

A segment is a wave x audience x language x channel. Its message is the first message in
the wave's order that lists both the audience and the channel (DESIGN.md decision 5).
``render_segment`` renders a segment at most once per campaign content: results are kept
per bundle, and bundles with the same content hash (the one validation loaded and the one
a worker loads) share them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from campaign.bundle import Bundle
from campaign.channel_contract import ChannelSegment, RenderRequest
from campaign.channel_ids import channels, declaration
from campaign.errors import Problem, WavecastError
from campaign.files import IMAGE_LIMIT, Refused, campaign_path, check_campaign_file, read_regular
from campaign.model import Campaign, Message, MessageFile
from campaign.newsletter import NewsletterSegment, layout
from campaign.render import RenderFailed, asset_url, campaign_hosts
from campaign.segment_key import SegmentKey
from campaign.settings import get_settings
from campaign.social import SocialPost
from campaign.timing import resolve_starts

# A newsletter, or what every other channel renders to: a post, a short message (SMS, push).
Output = NewsletterSegment | SocialPost | ChannelSegment
RENDERER_VERSION = b"wavecast-render-1"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")


class NoSuchSegment(WavecastError):
    """The wave, audience, language or channel is unknown, or no message serves it."""


def message_for(spec: Campaign, wave_id: str, audience_id: str, channel: str) -> Message | None:
    """The first message in the wave's order that lists the audience and the channel."""
    for message in spec.wave(wave_id).messages:
        if audience_id in message.audiences and channel in message.channels:
            return message
    return None


def segment_keys(spec: Campaign) -> Iterator[SegmentKey]:
    """Every segment that exists: wave, then audience, language and channel, in file order."""
    enabled = [c for c in channels() if c in spec.channels]
    for wave in spec.waves:
        for audience in spec.audiences:
            served = [c for c in enabled if message_for(spec, wave.id, audience.id, c) is not None]
            for lang in spec.campaign.languages:
                for channel in served:
                    yield SegmentKey(wave.id, audience.id, lang, channel)


# ---------------------------------------------------------------------------- images


class Assets:
    """Images a message names: absolute URLs, or files under the campaign directory that
    e-mails link as {base_url}/assets/{campaign id}/{path} (the web app serves them there)."""

    def __init__(self, bundle: Bundle, base_url: str) -> None:
        self.root = bundle.root.resolve()
        self.campaign_id = bundle.spec.campaign.id
        self.base_url = base_url
        self._digests: dict[str, str] = {}

    @classmethod
    def at(cls, root: Path, campaign_id: str, base_url: str) -> Assets:
        """The images of a campaign whose messages may not load: serving them needs only the directory."""
        assets = cls.__new__(cls)
        assets.root, assets.campaign_id, assets.base_url, assets._digests = root.resolve(), campaign_id, base_url, {}
        return assets

    def url(self, src: str) -> str:
        return asset_url(self.base_url, self.campaign_id, src)

    def refusal(self, src: str) -> str | None:
        """Why a relative src is not an image the campaign may use, or None when it is one."""
        if src.startswith(("https://", "http://")):
            return "an address, not a campaign file"
        try:
            path = check_campaign_file(self.root, src, IMAGE_LIMIT)
        except Refused as exc:
            return str(exc)
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            return f"not an image file ({', '.join(s.lstrip('.') for s in IMAGE_SUFFIXES)})"
        return None

    def path(self, src: str) -> Path | None:
        """The file for a relative src, if it is an image inside the campaign directory."""
        return None if self.refusal(src) is not None else campaign_path(self.root, src)

    def read(self, src: str) -> bytes | None:
        """The image's bytes, read through the one guarded reader (regular file, bounded size)."""
        if self.refusal(src) is not None:
            return None
        try:
            return read_regular(campaign_path(self.root, src), IMAGE_LIMIT)
        except Refused:
            return None

    def digest(self, src: str) -> str:
        if src not in self._digests:
            data = self.read(src)
            self._digests[src] = hashlib.sha256(data).hexdigest() if data is not None else "missing"
        return self._digests[src]


def _image_srcs(mf: MessageFile) -> list[str]:
    srcs = [img.src for img in (mf.text.image, mf.text.social_image) if img is not None]
    for part in mf.body.split("](")[1:]:
        srcs.append(part.split(")")[0].split(" ")[0])
    return [s for s in srcs if not s.startswith(("https://", "http://", "mailto:"))]


def _image_problems(bundle: Bundle, mf: MessageFile, srcs: tuple[str, ...], assets: Assets) -> list[Problem]:
    found = []
    source = bundle.message_sources.get(mf.path)
    for src in srcs:
        reason = assets.refusal(src)
        if reason is None:
            continue
        line, col = mf.body_line, 1
        for name in ("image", "social_image"):
            img = getattr(mf.text, name)
            if img is not None and img.src == src and source is not None:
                line, col = source.locate((name, "src"))
                break
        else:
            for i, text in enumerate(mf.body.split("\n")):
                if f"]({src}" in text:
                    line = mf.body_line + i
                    break
        found.append(
            Problem(
                mf.path,
                line,
                col,
                f"image {src!r}: {reason}; expected an image file (png, jpg, gif, webp) "
                f"at {src} inside the campaign directory",
            )
        )
    return found


# ---------------------------------------------------------------------------- the cache


@dataclass
class _State:
    """What rendering one campaign content needs, and every segment rendered so far."""

    bundle: Bundle
    base_url: str
    layout_digest: str
    starts: dict[str, dt.datetime]
    assets: Assets
    hosts: frozenset[str]
    results: dict[SegmentKey, Output | RenderFailed] = field(default_factory=dict)
    dumps: dict[int, bytes] = field(default_factory=dict)

    def dump(self, model: BaseModel) -> bytes:
        """A model part's JSON, once (the models are frozen and live as long as the bundle)."""
        found = self.dumps.get(id(model))
        if found is None:
            found = self.dumps[id(model)] = model.model_dump_json().encode()
        return found


_BY_OBJECT: dict[int, tuple[str, _State]] = {}
_BY_CONTENT: OrderedDict[tuple[str, str, str, str], _State] = OrderedDict()
_SHARED_MAX = 8


def _state(original: Bundle) -> _State:
    base_url = get_settings().base_url
    digest = layout().digest
    held = _BY_OBJECT.get(id(original))
    if held is not None and held[1].base_url == base_url and held[1].layout_digest == digest:
        return held[1]
    bundle = original
    content = (bundle.content_hash(), str(bundle.root.resolve()), base_url, digest)
    state = _BY_CONTENT.get(content)
    if state is None:
        state = _State(
            bundle, base_url, digest, resolve_starts(bundle.spec), Assets(bundle, base_url), campaign_hosts(bundle.spec)
        )
        _BY_CONTENT[content] = state
        while len(_BY_CONTENT) > _SHARED_MAX:
            _BY_CONTENT.popitem(last=False)
    else:
        _BY_CONTENT.move_to_end(content)
    key = id(original)
    if key not in _BY_OBJECT:
        weakref.finalize(original, _BY_OBJECT.pop, key, None)
    _BY_OBJECT[key] = (content[0], state)
    return state


def forget(bundle: Bundle | None = None) -> None:
    """Drop cached renders (all of them without an argument)."""
    if bundle is None:
        _BY_OBJECT.clear()
        _BY_CONTENT.clear()
    else:
        _BY_OBJECT.pop(id(bundle), None)


def segment_hash(state: _State, key: SegmentKey, message: Message) -> str:
    """The hash of everything a segment's output comes from: its message file, the parts
    of campaign.yaml it uses, the layout and the images it names."""
    spec = state.bundle.spec
    wave = spec.wave(key.wave)
    mf = state.bundle.message(message.template, key.lang)
    h = hashlib.sha256(RENDERER_VERSION)
    h.update("\0".join(key).encode())
    h.update(mf.model_dump_json(exclude={"path"}).encode())  # the path depends on the working directory
    for part in (message, spec.campaign, wave, spec.audience(key.audience)):
        h.update(state.dump(part))
    for initiative_id in wave.initiatives:
        try:
            initiative = spec.initiative(initiative_id)
            h.update(state.dump(initiative) + state.dump(spec.ambition(initiative.ambition)))
        except KeyError:
            h.update(f"unknown {initiative_id}".encode())
    config = spec.channels.get(key.channel)
    h.update(state.dump(config) if config is not None else b"-")
    h.update(state.starts[key.wave].isoformat().encode())
    declared = declaration(key.channel)
    h.update(state.layout_digest.encode() if declared is not None and declared.uses_layout else b"social")
    for src in _image_srcs(mf):
        h.update(f"{src}={state.assets.digest(src)}".encode())
    return h.hexdigest()


def _render(state: _State, key: SegmentKey) -> Output | RenderFailed:
    found = state.results.get(key)
    if found is not None:
        return found
    spec = state.bundle.spec
    message = message_for(spec, key.wave, key.audience, key.channel)
    if message is None:
        raise NoSuchSegment(f"no message of wave {key.wave!r} serves audience {key.audience!r} on {key.channel}")
    if (message.template, key.lang) not in state.bundle.messages:
        # Only while validating a campaign whose message file did not load; that is reported.
        state.results[key] = RenderFailed([])
        return state.results[key]
    content_hash = segment_hash(state, key, message)
    start = state.starts[key.wave]
    result: Output | RenderFailed
    try:
        declared = declaration(key.channel)
        if declared is None:
            raise NoSuchSegment(f"no channel {key.channel!r}")
        request = RenderRequest(
            state.bundle, key, message, start, state.base_url, content_hash, state.hosts, state.assets.url
        )
        result = declared.render(request)
        missing = _image_problems(
            state.bundle, state.bundle.message(message.template, key.lang), result.images, state.assets
        )
        if missing:
            object.__setattr__(result, "problems", (*result.problems, *missing))
    except RenderFailed as exc:
        result = exc
    state.results[key] = result
    return result


def _check_key(spec: Campaign, key: SegmentKey) -> None:
    waves = [w.id for w in spec.waves]
    audiences = [a.id for a in spec.audiences]
    for what, value, known in (
        ("wave", key.wave, waves),
        ("audience", key.audience, audiences),
        ("language", key.lang, list(spec.campaign.languages)),
        ("channel", key.channel, list(channels())),
    ):
        if value not in known:
            raise NoSuchSegment(f"unknown {what} {value!r}; the campaign has: {', '.join(known)}")


def render_segment(bundle: Bundle, wave_id: str, audience_id: str, lang: str, channel: str) -> Output:
    """The output of one segment: a NewsletterSegment, a SocialPost or another channel's output, rendered once.

    Raises NoSuchSegment for an unknown id or a combination no message serves, and
    RenderFailed (an InvalidInput: FILE:LINE problems) when a template fails.
    """
    key = SegmentKey(wave_id, audience_id, lang, channel)
    _check_key(bundle.spec, key)
    result = _render(_state(bundle), key)
    if isinstance(result, RenderFailed):
        if not result.problems:
            raise NoSuchSegment(f"the {lang} message file of wave {wave_id!r} for {audience_id!r} did not load")
        raise result
    return result


def iter_segments(bundle: Bundle) -> Iterator[Output]:
    """Every segment's output, in plan order; raises RenderFailed at the first broken one."""
    state = _state(bundle)
    for key in segment_keys(bundle.spec):
        result = _render(state, key)
        if isinstance(result, RenderFailed):
            if result.problems:
                raise result
            continue
        yield result


@dataclass(frozen=True)
class Matrix:
    """Everything a campaign renders to, with every problem found (deduplicated)."""

    outputs: dict[SegmentKey, Output]
    problems: list[Problem]

    def newsletters(self) -> list[NewsletterSegment]:
        return [o for o in self.outputs.values() if isinstance(o, NewsletterSegment)]

    def posts(self, platform: str | None = None) -> list[SocialPost]:
        return [o for o in self.outputs.values() if isinstance(o, SocialPost) and platform in (None, o.platform)]


def render_matrix(bundle: Bundle, done: Callable[[int, int], None] | None = None) -> Matrix:
    """Render every segment, collecting problems instead of stopping at the first.

    `done(n, total)` hears how many of the segments are rendered so far (a progress bar)."""
    state = _state(bundle)
    outputs: dict[SegmentKey, Output] = {}
    problems: dict[Problem, None] = {}
    keys = list(segment_keys(bundle.spec))
    for count, key in enumerate(keys, 1):
        result = _render(state, key)
        if isinstance(result, RenderFailed):
            problems.update(dict.fromkeys(result.problems))
        else:
            outputs[key] = result
            problems.update(dict.fromkeys(result.problems))
        if done is not None:
            done(count, len(keys))
    return Matrix(outputs, sorted(problems))
