"""Counts per channel in the same words in `audiences`, `forecast` and `status`.

A person channel's count is one message per person, in the words its module declares (e-mails,
texts). A social
post is one per audience, language and platform, so a social channel counts posts, and the
forecast says how many people those posts are meant for. One number without its unit ("x 300")
reads as 300 posts; every count the commands print carries its unit instead.
"""

from __future__ import annotations

from collections.abc import Mapping

from campaign.channel_ids import declaration, is_post

LEGEND = (
    "e-mails and texts: one per person; posts: one per audience, language and platform, "
    "meant for the people counted beside them."
)


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def messages(channel: str, n: int) -> str:
    """What a ledger count of a channel is: '53 e-mails', '3 texts', '4 posts'."""
    if is_post(channel):
        return _plural(n, "post", "posts")
    declared = declaration(channel)
    one, many = declared.units if declared is not None else ("message", "messages")
    return _plural(n, one, many)


def reach(channel: str, n: int) -> str:
    """What a forecast count of a channel is: e-mails or texts for a person channel; for a social
    channel the people its posts are meant for."""
    return _plural(n, "person", "people") if is_post(channel) else messages(channel, n)


def per_channel(people: Mapping[str, int], posts: Mapping[str, int]) -> str:
    """One line for a wave: 'newsletter 53 e-mails, x 4 posts for 53 people'; 'nobody' when empty."""
    parts = []
    for channel, n in people.items():
        if is_post(channel):
            parts.append(f"{channel} {messages(channel, posts.get(channel, 0))} for {reach(channel, n)}")
        else:
            parts.append(f"{channel} {messages(channel, n)}")
    return ", ".join(parts) or "nobody"
