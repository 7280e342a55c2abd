"""The contract every registered channel keeps, checked for each entry of waves.channels.REGISTRY:
a channel added to the table is under these tests without a line more.

Each channel builds a row's message from its segment (deterministically: a retry carries the
same key and the same bytes), and its embedded messenger takes it through push, flush, close.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from audiences.upsert import add_contacts
from campaign.bundle import load_bundle
from campaign.channel_contract import RunContext
from campaign.channel_ids import LIMITS, channels, declaration, declarations, is_post
from campaign.settings import get_settings
from tests.campaign_copy import copy_campaign, edit
from tests.conftest import reset_caches
from waves.channels import REGISTRY, channel
from waves.ledger import Claimed

ROOT = Path(__file__).resolve().parent.parent
ALL = f"channels: [{', '.join(channels())}]"  # every channel of the one list, whatever it holds


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RunContext:
    monkeypatch.setenv("WAVECAST_OUTBOX_DIR", str(tmp_path / "outbox"))
    reset_caches()
    camp = copy_campaign(tmp_path)
    edit(camp / "campaign.yaml", "channels: [newsletter, x]", ALL)
    # The person every person channel writes to, with an address on each of them.
    addresses = {d.address.attribute: d.address.example for d in declarations() if d.address is not None}
    assert add_contacts([{"email": "ana@example.org", "first_name": "Ana", "attributes": addresses}]) == [PERSON]
    return RunContext(run_id=7, wave_id="first", bundle=load_bundle(camp))


PERSON = 1  # the contact the `run` fixture stores


def row_for(channel_id: str) -> Claimed:
    if is_post(channel_id):
        return Claimed(11, channel_id, "default", None, "k" * 32, "youth", "fr", None, None, None)
    declared = declaration(channel_id)
    # The row as the claim reads it: with the contact's address on its channel, when it has one.
    address = declared.address.example if declared is not None and declared.address is not None else None
    return Claimed(11, channel_id, None, PERSON, "hello", "youth", "fr", "ana@example.org", "Ana", None, address)


def test_every_listed_channel_is_registered_once() -> None:
    assert list(REGISTRY) == list(channels())
    for channel_id, registered in REGISTRY.items():
        assert registered.id == channel_id and registered.limits == LIMITS[channel_id]


def test_an_unknown_channel_is_named_not_a_key_error() -> None:
    with pytest.raises(Exception, match="no channel 'fax'; wavecast sends on newsletter, x"):
        channel("fax")


@pytest.mark.parametrize("channel_id", list(REGISTRY))
def test_a_message_is_the_same_on_every_build(run: RunContext, channel_id: str) -> None:
    first = REGISTRY[channel_id].build(run, row_for(channel_id))
    again = REGISTRY[channel_id].build(run, row_for(channel_id))
    assert (first.key, first.recipient, first.body) == (again.key, again.recipient, again.body)
    assert first.body


@pytest.mark.parametrize("channel_id", list(REGISTRY))
def test_the_embedded_messenger_takes_a_message_through_push_flush_close(run: RunContext, channel_id: str) -> None:
    registered = REGISTRY[channel_id]
    message = registered.build(run, row_for(channel_id))
    messenger = registered.messenger(get_settings())
    messenger.push(message)
    messenger.flush()
    messenger.close()
    outbox = get_settings().outbox_dir
    if is_post(channel_id):
        [line] = (outbox / "social" / "published" / f"{channel_id}.jsonl").read_text(encoding="utf-8").splitlines()
        post = json.loads(line)
        assert (post["platform"], post["language"], post["idempotency_key"]) == (channel_id, "fr", "k" * 32)
        assert post["image"] is not None  # every post carries its image (Instagram requires one)
    else:
        # A person's message lands whole, once, in the outbox, addressed to the person.
        [written] = [p.read_bytes() for p in outbox.rglob("*") if p.is_file() and not p.name.startswith(".")]
        declared = declaration(channel_id)
        address = declared.address.example if declared is not None and declared.address is not None else None
        assert written == message.body and message.recipient in ("ana@example.org", address)
        assert message.recipient.encode() in written


# The parts every channel passes through, which must work for a channel they have never heard of.
GENERIC = [
    "waves/delivery.py",
    "waves/lanes.py",
    "waves/ledger.py",
    "waves/chunk_attempt.py",
    *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "waves" / "channels").glob("*.py"))),
    "frontends/web/preview.py",
]


@pytest.mark.parametrize("path", GENERIC)
def test_the_send_loop_and_the_preview_name_no_channel(path: str) -> None:
    """A channel is one module of campaign/channels/: no generic part may name one (a `"newsletter"`
    branch is how e-mail came to be hard-wired through the send path)."""
    named = {
        node.value
        for node in ast.walk(ast.parse((ROOT / path).read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in channels()
    }
    assert not named, f"{path} names the channel {', '.join(sorted(named))}"
