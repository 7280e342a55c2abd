"""Bluesky: posts through the outbox feed or the signed webhook until an account is configured."""

from __future__ import annotations

from waves.channels.posts import PostChannel

CHANNEL = PostChannel("bluesky")
