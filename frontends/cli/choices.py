"""Values typed on the command line (a wave, an audience, a language, a channel) checked against
the campaign before a command acts, so that a typo gets "did you mean" instead of a bare refusal."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from campaign.errors import WavecastError
from campaign.model import Campaign


def closest(value: str, known: list[str]) -> str | None:
    """The choice `value` was most likely meant to be, or None."""
    close = difflib.get_close_matches(value, known, n=1, cutoff=0.6)
    if close:
        return close[0]
    # A different case or a near prefix ("NL", "news") is a typo too.
    folded = {k.casefold(): k for k in known}
    if value.casefold() in folded:
        return folded[value.casefold()]
    return next((k for k in known if k.startswith(value) or value.startswith(k)), None)


def one_of(value: str | None, choices: Iterable[str], what: str, option: str) -> None:
    """Nothing when `value` is absent or known; else a one-line error with the closest choice."""
    known = list(choices)
    if value is None or value in known:
        return
    meant = closest(value, known)
    hint = f"; did you mean {option} {meant}?" if meant else ""
    listed = ", ".join(known) or "none"
    raise WavecastError(f"{option} {value}: unknown {what} {value!r}{hint} (the campaign's {what}s: {listed})")


def check_picked(
    spec: Campaign,
    *,
    wave: str | None = None,
    audience: str | None = None,
    lang: str | None = None,
    channel: str | None = None,
) -> None:
    """Refuse the first unknown value among those given, naming its option."""
    one_of(wave, (w.id for w in spec.waves), "wave", "--wave")
    one_of(audience, (a.id for a in spec.audiences), "audience", "--audience")
    one_of(lang, spec.campaign.languages, "language", "--lang")
    one_of(channel, spec.channels, "channel", "--channel")
