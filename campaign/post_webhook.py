"""The webhook messenger: an HTTP POST of the post as JSON, signed with HMAC-SHA256 and carrying
an Idempotency-Key, so a retried POST is recognisable. For networks without an open API (X,
LinkedIn, Facebook, Instagram), whose posting a team's own tool takes over.

A 5xx, a 429 or no answer is worth retrying; any other refusal is final, and the reply is kept
on the row so the dashboard shows why the post failed.
"""

from __future__ import annotations

import hashlib
import hmac

import httpx

from campaign.channel_contract import Outgoing
from campaign.json_messengers import post_json


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookMessenger:
    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret.encode()
        self.client = httpx.Client(timeout=timeout)

    def push(self, message: Outgoing) -> None:
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.key,
            "X-Wavecast-Signature": signature(self.secret, message.body),
        }
        post_json(self.client, self.url, message, headers, "webhook", personal=False)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.client.close()
