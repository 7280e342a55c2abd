"""The accounts Bluesky and Mastodon publish through are settings: WAVECAST_BLUESKY_ACCOUNTS and
WAVECAST_MASTODON_ACCOUNTS, `NAME=https://USER:SECRET@HOST, ...`. A bad entry stops every process
at start with the variable's name, the entry and exit 2, and never shows the secret. The campaign
names the account per language; a language it names that the campaign does not have is a
problem at its line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from campaign.bundle import load_bundle
from campaign.errors import InvalidInput, SettingsError
from campaign.settings import load_settings
from campaign.social_accounts import SocialAccount
from tests.campaign_copy import copy_campaign, edit, line_of
from tests.cli import wavecast
from tests.conftest import ROOT, reset_caches

SECRET = "s3cr3t-app-pass"
BLUESKY = "WAVECAST_BLUESKY_ACCOUNTS"
MASTODON = "WAVECAST_MASTODON_ACCOUNTS"


def test_accounts_are_read_by_name_with_the_secret_kept_out_of_their_repr() -> None:
    settings = load_settings(
        {
            BLUESKY: f"nl=https://smartnation-nl.bsky.social:{SECRET}@bsky.social, "
            "default=https://smartnation.bsky.social:p%40ss%2Cword@pds.example.be:8443/",
            MASTODON: f"default=https://:{SECRET}@mastodon.social",
        }
    )
    assert settings.channels["bluesky"] == {
        "nl": SocialAccount("nl", "smartnation-nl.bsky.social", SECRET, "https://bsky.social"),
        "default": SocialAccount("default", "smartnation.bsky.social", "p@ss,word", "https://pds.example.be:8443"),
    }
    assert settings.channels["mastodon"]["default"].server == "https://mastodon.social"
    assert "x" not in settings.channels  # X takes no accounts: it posts through the feed or the webhook
    assert SECRET not in repr(settings)


BAD = [
    (BLUESKY, "nl", "entry 1: expected NAME=https://USER:SECRET@HOST"),
    (BLUESKY, f"https://a:{SECRET}@bsky.social", "entry 1: expected NAME="),
    (BLUESKY, f"NL=https://a:{SECRET}@bsky.social", "entry 1: expected NAME="),
    (BLUESKY, f"nl=https://a:{SECRET}@bsky.social, fr:https://a:{SECRET}@bsky.social", "entry 2: expected NAME="),
    (BLUESKY, f"nl=https://a:{SECRET}@bsky.social,nl=https://b:{SECRET}@bsky.social", "account 'nl': named twice"),
    (BLUESKY, f"nl=ftp://a:{SECRET}@bsky.social", "expected https://USER:SECRET@HOST"),
    (BLUESKY, f"nl=http://a:{SECRET}@bsky.social", "https is required"),
    (BLUESKY, f"nl=https://a:{SECRET}@bsky.social/xrpc", "takes no path"),
    (BLUESKY, f"nl=https://a:{SECRET}@bsky.social:0", "expected https://USER:SECRET@HOST"),
    (BLUESKY, f"nl=https://a:{SECRET}@bsky.social:99999", "the port must be a number from 1 to 65535"),
    (BLUESKY, f"nl=https://:{SECRET}@bsky.social", "no user (the account's handle)"),
    (BLUESKY, "nl=https://smartnation@bsky.social", "no secret"),
    (MASTODON, "default=https://mastodon.social", "no secret"),
    (MASTODON, f"default=https://:{SECRET}@mastodon.social?x=1", "takes no path, ?query"),
    (MASTODON, f"default=https://:{SECRET}@", "expected https://USER:SECRET@HOST"),
]


@pytest.mark.parametrize(("name", "value", "message"), BAD, ids=[f"{n[9:13]}-{i}" for i, (n, _, _) in enumerate(BAD)])
def test_a_bad_account_is_refused_by_variable_and_entry_without_its_secret(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({name: value})
    text = str(caught.value)
    assert text.startswith(name) and message in text
    assert caught.value.exit_code == 2
    assert SECRET not in text


@pytest.mark.parametrize("value", [f"nl=http://a:{SECRET}@example.org", "nl"])
def test_a_command_stops_at_start_with_the_name_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(BLUESKY, value)
    reset_caches()
    monkeypatch.chdir(ROOT)
    result = wavecast(capsys, "validate", "examples/smartnation")
    assert result.code == 2 and BLUESKY in result.err and result.out == ""
    assert SECRET not in result.err


def test_an_account_for_a_language_the_campaign_lacks_is_named_at_its_line(tmp_path: Path) -> None:
    camp = copy_campaign(tmp_path)
    yaml = camp / "campaign.yaml"
    accounts = "channels:\n  newsletter: {}\n  x: {}\n  bluesky:\n    accounts: {nl: sn, it: sn-it}\n"
    edit(yaml, "ambitions:\n", accounts + "ambitions:\n")
    with pytest.raises(InvalidInput) as caught:
        load_bundle(camp)
    assert str(caught.value) == (
        f"{yaml}:{line_of(yaml, 'accounts:')}:28: bluesky account for it: it is not one of the campaign's languages"
    )
