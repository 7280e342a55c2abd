"""Mastodon: posts through the outbox feed or the signed webhook.

Direct publishing through the Mastodon API would be a messenger of its own in this module."""

from __future__ import annotations

from waves.channels.posts import PostChannel

CHANNEL = PostChannel("mastodon")
