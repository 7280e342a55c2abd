"""The name of one rendering unit: a wave x audience x language x channel.

Its own module because the template context (below the renderer) and the renderer both
need it; kept in ``campaign.render`` it made the context import upward.
"""

from __future__ import annotations

from typing import NamedTuple


class SegmentKey(NamedTuple):
    """One rendering unit: a wave x audience x language x channel."""

    wave: str
    audience: str
    lang: str
    channel: str

    @property
    def slug(self) -> str:
        return f"{self.wave}-{self.audience}-{self.lang}"
