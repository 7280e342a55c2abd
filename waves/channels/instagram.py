"""Instagram: posts through the outbox feed or the signed webhook.

Instagram posts carry their image (the payload's `image`), as the platform requires."""

from __future__ import annotations

from waves.channels.posts import PostChannel

CHANNEL = PostChannel("instagram")
