"""The one Accept-Language reader (frontends/web/accept_language.py), as the public pages use it:
they speak the campaign's languages, which need not be the web app's nl, fr, de and en."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from starlette.requests import Request

from frontends.web.accept_language import campaign_language, preferred
from frontends.web.subscribe import _language


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-BE, nl;q=0.8", "fr"),
        ("de;q=0.2, nl;q=0.9", "nl"),
        ("en;q=0, fr", "fr"),  # q=0: not wanted at all
        ("it;q=abc, fr;q=0.5", "fr"),  # a q it cannot read is not a preference
        ("*", None),
        ("", None),
        ("x" * 5000, None),
    ],
)
def test_the_most_wanted_available_language(header: str, expected: str | None) -> None:
    assert preferred(header, ("nl", "fr", "de", "en")) == expected


def _request(header: str, query: str = "") -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "headers": [(b"accept-language", header.encode())],
        "query_string": query.encode(),
    }
    return Request(scope)


def test_a_public_page_answers_in_a_campaign_language_the_web_app_does_not_speak() -> None:
    spec: Any = SimpleNamespace(campaign=SimpleNamespace(languages=["nl", "it"]))
    assert _language(spec, _request("it, nl;q=0.5")) == "it"  # not nl, the web app's first match
    assert _language(spec, _request("de, nl;q=0.5")) == "nl"
    assert _language(spec, _request("de")) == "nl"  # none of the campaign's: its first
    assert _language(spec, _request("it", "lang=nl")) == "nl"  # the link's choice comes first
    assert campaign_language(None, ["fr", "nl"]) == "fr"
