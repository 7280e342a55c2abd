"""Cross-reference and coverage checks over a loaded campaign, each with its file and line."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from campaign.errors import Problem
from campaign.layout_strings import REGISTERS, missing_texts, required_keys, shipped
from campaign.loaded_campaign import Bundle
from campaign.model import After, Campaign
from campaign.phrase import Phrase
from campaign.timing import StartCycle, blackout_name, in_window, resolve_starts

Check = Callable[[Bundle], Iterable[Problem]]


def _duplicates(
    bundle: Bundle, items: Iterable[Any], path: tuple[Any, ...], what: str, attr: str = "id"
) -> list[Problem]:
    seen: set[Any] = set()
    found = []
    for i, item in enumerate(items):
        value = getattr(item, attr)
        if value in seen:
            found.append(bundle.source.problem((*path, i, attr), f"duplicate {what} {value!r}"))
        seen.add(value)
    return found


def check_unique_ids(bundle: Bundle) -> list[Problem]:
    spec = bundle.spec
    found = _duplicates(bundle, spec.ambitions, ("ambitions",), "ambition id")
    found += _duplicates(bundle, spec.ambitions, ("ambitions",), "ambition number", "number")
    for ai, ambition in enumerate(spec.ambitions):
        found += _duplicates(bundle, ambition.kpis, ("ambitions", ai, "kpis"), "KPI id")
    found += _duplicates(bundle, spec.initiatives, ("initiatives",), "initiative id")
    found += _duplicates(bundle, spec.audiences, ("audiences",), "audience id")
    found += _duplicates(bundle, spec.interests, ("interests",), "interest id")
    found += _duplicates(bundle, spec.waves, ("waves",), "wave id")
    for wi, wave in enumerate(spec.waves):
        found += _duplicates(bundle, wave.messages, ("waves", wi, "messages"), "message id")
    return found


def _translated(spec: Campaign) -> Iterable[tuple[tuple[Any, ...], Mapping[Any, str]]]:
    info = spec.campaign
    yield ("campaign", "name"), info.name
    yield ("campaign", "website"), info.website
    if isinstance(info.sender.name, dict):
        yield ("campaign", "sender", "name"), info.sender.name
    if isinstance(info.sender.reply_to, dict):
        yield ("campaign", "sender", "reply_to"), info.sender.reply_to
    for ai, ambition in enumerate(spec.ambitions):
        yield ("ambitions", ai, "title"), ambition.title
        for ki, kpi in enumerate(ambition.kpis):
            yield ("ambitions", ai, "kpis", ki, "title"), kpi.title
    for ii, initiative in enumerate(spec.initiatives):
        yield ("initiatives", ii, "title"), initiative.title
        yield ("initiatives", ii, "summary"), initiative.summary
    for ai, audience in enumerate(spec.audiences):
        yield ("audiences", ai, "title"), audience.title
        if audience.description is not None:
            yield ("audiences", ai, "description"), audience.description
    for wi, wave in enumerate(spec.waves):
        yield ("waves", wi, "title"), wave.title
    for ii, interest in enumerate(spec.interests):
        yield ("interests", ii, "label"), interest.label
    if info.subscribe is not None:
        yield ("campaign", "subscribe", "consent", "text"), info.subscribe.consent.text
    if info.branding is not None and info.branding.logo is not None:
        yield ("campaign", "branding", "logo_alt"), info.branding.logo_alt


def check_languages(bundle: Bundle) -> list[Problem]:
    spec = bundle.spec
    info = spec.campaign
    langs = set(info.languages)
    found = []
    for channel, config in spec.channels.items():
        for lang in config.accounts:
            if lang not in langs:
                found.append(
                    bundle.source.problem(
                        ("channels", channel, "accounts", lang),
                        f"{channel} account for {lang}: {lang} is not one of the campaign's languages",
                    )
                )
    for lang, target in info.fallbacks.items():
        if lang not in langs or target not in langs:
            found.append(
                bundle.source.problem(
                    ("campaign", "fallbacks", lang), f"fallback {lang} -> {target}: both must be campaign languages"
                )
            )
        elif target in info.fallbacks:
            found.append(
                bundle.source.problem(
                    ("campaign", "fallbacks", lang),
                    f"fallback {lang} -> {target}: {target} itself falls back; point at a language that is written",
                )
            )
    for field, words in (("hashtags", info.hashtags), ("link_in_bio", info.link_in_bio)):
        for lang in words:
            if lang not in langs:
                found.append(
                    bundle.source.problem(
                        ("campaign", field, lang), f"{field} for {lang}, which is not a campaign language", key=True
                    )
                )
    for ii, initiative in enumerate(spec.initiatives):
        pages = initiative.url if isinstance(initiative.url, dict) else {}
        for written in pages:
            if written not in langs:
                found.append(
                    bundle.source.problem(
                        ("initiatives", ii, "url", written),
                        f"initiative {initiative.id}: a page in {written}, which is not a campaign language",
                        key=True,
                    )
                )
        if pages and initiative.url_language is not None and initiative.url_language not in pages:
            found.append(
                bundle.source.problem(
                    ("initiatives", ii, "url_language"),
                    f"initiative {initiative.id}: url_language {initiative.url_language} names no page in url",
                )
            )
    for path, texts in _translated(spec):
        for lang in info.languages:
            if lang not in texts and info.fallbacks.get(lang) not in texts:
                found.append(bundle.source.problem(path, f"{'.'.join(map(str, path))}: missing {lang} translation"))
        for written in texts:
            if written not in langs:
                found.append(
                    bundle.source.problem(
                        (*path, written),
                        f"{written} is not one of the campaign's languages ({', '.join(info.languages)})",
                        key=True,
                    )
                )
    return found


def check_references(bundle: Bundle) -> list[Problem]:
    spec = bundle.spec
    ambitions = {a.id for a in spec.ambitions}
    audiences = {a.id for a in spec.audiences}
    waves = [w.id for w in spec.waves]
    found = []
    for ii, initiative in enumerate(spec.initiatives):
        if initiative.ambition not in ambitions:
            found.append(
                bundle.source.problem(
                    ("initiatives", ii, "ambition"),
                    f"initiative {initiative.id!r} names ambition {initiative.ambition!r}, "
                    "which is not one of the ambitions; "
                    "an initiative is published only when it fits one of them",
                )
            )
    for wi, wave in enumerate(spec.waves):
        start = wave.start
        if isinstance(start, After):
            target = start.after
            if target not in waves:
                found.append(bundle.source.problem(("waves", wi, "start", "after"), f"unknown wave {target!r}"))
            elif waves.index(target) >= wi:
                found.append(
                    bundle.source.problem(
                        ("waves", wi, "start", "after"),
                        f"wave {wave.id!r} starts after {target!r}, which comes later in the file; keep waves in order",
                    )
                )
        for mi, message in enumerate(wave.messages):
            for k, audience_id in enumerate(message.audiences):
                if audience_id not in audiences:
                    found.append(
                        bundle.source.problem(
                            ("waves", wi, "messages", mi, "audiences", k), f"unknown audience {audience_id!r}"
                        )
                    )
            for k, channel in enumerate(message.channels):
                if channel not in spec.channels:
                    found.append(
                        bundle.source.problem(
                            ("waves", wi, "messages", mi, "channels", k),
                            f"channel {channel!r} is not enabled in the campaign's channels",
                        )
                    )
    return found


def check_schedule(bundle: Bundle) -> list[Problem]:
    spec = bundle.spec
    info = spec.campaign
    try:
        starts = resolve_starts(spec)
    except StartCycle:
        return []  # an unknown or later wave in `after:`, reported by check_references
    found = []
    previous = None
    for wi, wave in enumerate(spec.waves):
        start = starts[wave.id]
        local = start.strftime("%Y-%m-%d %H:%M %Z")
        path = ("waves", wi, "start")
        if previous is not None and start < previous[1]:
            found.append(
                bundle.source.problem(
                    path,
                    Phrase(
                        "wave %(wave)s starts %(start)s, before the wave above it (%(above)s); "
                        "waves are listed in order",
                        wave=repr(wave.id),
                        start=local,
                        above=repr(previous[0]),
                    ),
                )
            )
        previous = (wave.id, start)
        holiday = blackout_name(info, start)
        if holiday is not None:
            found.append(
                bundle.source.problem(
                    path,
                    Phrase(
                        "wave %(wave)s starts %(start)s, a blackout date (%(holiday)s)",
                        wave=repr(wave.id),
                        start=local,
                        holiday=holiday,
                    ),
                )
            )
        elif not in_window(info, start):
            window = info.send_window
            found.append(
                bundle.source.problem(
                    path,
                    Phrase(
                        "wave %(wave)s starts %(start)s, outside the send window (%(days)s %(from)s-%(to)s)",
                        wave=repr(wave.id),
                        start=local,
                        days=", ".join(window.days),
                        **{"from": format(window.start, "%H:%M"), "to": format(window.end, "%H:%M")},
                    ),
                )
            )
    return found


def check_coverage(bundle: Bundle) -> list[Problem]:
    """Niemand wordt vergeten: every audience is addressed by at least one wave."""
    addressed = {a for w in bundle.spec.waves for m in w.messages for a in m.audiences}
    return [
        bundle.source.problem(
            ("audiences", ai, "id"),
            f"audience {audience.id!r} is addressed by no wave (niemand wordt vergeten)",
            severity="warning",
        )
        for ai, audience in enumerate(bundle.spec.audiences)
        if audience.id not in addressed
    ]


def check_layout_strings(bundle: Bundle) -> list[Problem]:
    """Each language of a campaign that sends newsletters has every text the layout needs."""
    info = bundle.spec.campaign
    layout = shipped()
    needed = required_keys(layout)
    found = []
    for lang, texts in info.layout_strings.items():
        for key in texts:
            if key not in needed:
                found.append(
                    bundle.source.problem(
                        ("campaign", "layout_strings", lang, key),
                        f"the layout has no text {key!r}; it uses {', '.join(needed)}",
                        key=True,
                    )
                )
    found.extend(_register_problems(bundle))
    if not any("newsletter" in m.channels for w in bundle.spec.waves for m in w.messages):
        return found
    shipped_langs = sorted({lang for texts in layout.values() for lang in texts})
    for li, lang in enumerate(info.languages):
        missing = missing_texts(info, lang, layout)
        if missing:
            found.append(
                bundle.source.problem(
                    ("campaign", "languages", li),
                    f"language {lang!r}: the newsletter layout has no text for {', '.join(missing)}; "
                    f"give them in campaign.layout_strings.{lang} "
                    f"(templates/newsletter/strings.yaml has {', '.join(shipped_langs)})",
                )
            )
    return found


def _register_problems(bundle: Bundle) -> list[Problem]:
    """campaign.register and each audience's `register` name a pronoun of their language."""
    spec = bundle.spec
    declared: list[tuple[tuple[str | int, ...], dict[str, str]]] = [(("campaign", "register"), spec.campaign.register_)]
    declared += [(("audiences", ai, "register"), a.register_) for ai, a in enumerate(spec.audiences)]
    return [
        bundle.source.problem(
            (*path, lang),
            f"{pronoun!r} is no register of {lang!r}: use {' or '.join(REGISTERS[lang])}",
        )
        for path, registers in declared
        for lang, pronoun in registers.items()
        if lang in REGISTERS and pronoun not in REGISTERS[lang]
    ]


def _rule_tags(rule: Any) -> Iterable[str]:
    if rule.tag is not None:
        yield rule.tag.strip().lower()
    for child in (*(rule.all or ()), *(rule.any or ()), *((rule.not_,) if rule.not_ else ())):
        yield from _rule_tags(child)


def check_subscriptions(bundle: Bundle) -> list[Problem]:
    """An interest whose tags no audience reads puts its people nowhere; a logo must exist."""
    spec = bundle.spec
    read = {tag for audience in spec.audiences for tag in _rule_tags(audience.rule)}
    found = []
    for ii, interest in enumerate(spec.interests):
        for ti, tag in enumerate(interest.tags):
            if tag.strip().lower() not in read:
                found.append(
                    bundle.source.problem(
                        ("interests", ii, "tags", ti),
                        f"interest {interest.id}: no audience's rule reads the tag {tag!r}",
                        severity="warning",
                    )
                )
    branding = spec.campaign.branding
    if branding is not None and branding.logo is not None and not (bundle.root / branding.logo).is_file():
        found.append(
            bundle.source.problem(
                ("campaign", "branding", "logo"), f"logo {branding.logo}: no such file in the campaign folder"
            )
        )
    return found


CHECKS: list[Check] = [
    check_unique_ids,
    check_subscriptions,
    check_languages,
    check_layout_strings,
    check_references,
    check_schedule,
    check_coverage,
]


def check_bundle(bundle: Bundle, *, partial: bool = False) -> list[Problem]:
    """Every check on the files alone: structure, references, languages, schedule, coverage.

    No database and no rendering: the initiatives of approved requests join where a wave is
    assembled (``waves.assembly``), and rendering is its own step (``campaign.render_check``).
    `partial`: the spec stands in for a campaign.yaml whose wrong optional keys were left out
    (already reported); the schedule is not judged then, as the time zone or the send window
    it would use may be one of them."""
    problems: list[Problem] = []
    for check in CHECKS:
        if partial and check is check_schedule:
            continue
        problems.extend(check(bundle))
    return problems
