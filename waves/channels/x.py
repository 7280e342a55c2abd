"""X: posts through the outbox feed or the signed webhook."""

from __future__ import annotations

from waves.channels.posts import PostChannel

CHANNEL = PostChannel("x")
