"""The two messengers a person channel over a plain HTTP API needs (SMS, push): one JSON POST
per message to the service, or, in the embedded default and the dry run, one JSON file per
message in the outbox.

The POST carries the delivery key as `Idempotency-Key`, so a retry after a lost reply is
recognisable and makes no second message, and the channel's token as a bearer token. 2xx:
sent; 408, 429, 5xx or no answer: try again later; any other 4xx: this message fails with the
service's reply kept, the recipient's address blanked out of it (replies end up on rows and
in logs). A file is named by the delivery key and is whole or absent; a retry overwrites it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import httpx

from campaign.channel_contract import Outgoing, PermanentError, TransientError
from campaign.outbox_files import write_whole
from campaign.settings import HttpEndpoint

REPLY_KEPT = 300


def without(address: str, reply: str) -> str:
    """The reply with the address blanked out (a phone number with or without its +)."""
    bare = address.lstrip("+")
    return re.sub(rf"\+?{re.escape(bare)}", "[address]", reply) if bare else reply


def post_json(
    client: httpx.Client, url: str, message: Outgoing, headers: Mapping[str, str], what: str, *, personal: bool
) -> None:
    """POST the message's body; return once the far side took it, else raise its refusal sorted:
    408, 429, 5xx or no answer is worth retrying, any other refusal is final. The reply is kept
    (on the row, so the dashboard shows why); `personal`: the recipient is a person, whose
    address is blanked out of it."""
    try:
        response = client.post(url, content=message.body, headers=headers)
    except httpx.HTTPError as exc:
        raise TransientError(f"{what} unreachable: {type(exc).__name__}") from None
    if response.status_code < 300:
        return
    reply = response.text[:REPLY_KEPT]
    reply = without(message.recipient, reply) if personal else reply
    reason = f"{what} answered {response.status_code}: {reply}".strip()
    if response.status_code >= 500 or response.status_code in (408, 429):
        raise TransientError(reason)
    raise PermanentError(reason)


class JsonPostMessenger:
    """One JSON POST per message, over one reused connection."""

    def __init__(self, endpoint: HttpEndpoint, what: str, timeout: float = 10.0) -> None:
        self.url = endpoint.url
        self.what = what  # "SMS gateway": how replies and errors name the far side
        self.client = httpx.Client(timeout=timeout)
        self.auth = {"Authorization": f"Bearer {endpoint.token}"} if endpoint.token else {}

    def push(self, message: Outgoing) -> None:
        headers = {"Content-Type": "application/json", "Idempotency-Key": message.key, **self.auth}
        post_json(self.client, self.url, message, headers, self.what, personal=True)

    def flush(self) -> None:
        pass  # every push waited for the reply

    def close(self) -> None:
        self.client.close()


class JsonFileMessenger:
    """One JSON file per message, named by its delivery key, whole or absent."""

    def __init__(self, directory: Path, what: str) -> None:
        self.directory = directory
        self.what = what

    def push(self, message: Outgoing) -> None:
        write_whole(self.directory / f"{message.key}.json", message.body, self.what)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass
