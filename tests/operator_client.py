"""The web app in-process, for a campaign, with an account that may act on it (every role): the
client, and a form POST that carries the account's token and a CSRF token, as a script's would."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.exceptions import StarletteDeprecationWarning

from frontends.web.app import create_app
from tests.accounts_setup import account_with_token
from tests.conftest import reset_caches

with warnings.catch_warnings():
    # Starlette asks for its httpx fork; the released httpx it warns about works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

TOKEN = "wct_operator-test-token"
EMAIL = "editor@example.org"


@contextmanager
def operator_client(camp: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app over `camp`; the test's database must be set (the account is made in it)."""
    reset_caches()
    account_with_token(TOKEN, EMAIL)
    with TestClient(
        create_app(camp), client=("127.0.0.1", 50340), base_url="http://127.0.0.1", raise_server_exceptions=False
    ) as client:
        yield client


def post_as_operator(client: TestClient, path: str, data: dict[str, str]) -> Any:
    csrf = client.get("/api/csrf").json()["csrf_token"]
    return client.post(
        path,
        data={**data, "csrf_token": csrf},
        headers={"Authorization": f"Bearer {TOKEN}"},
        follow_redirects=False,
    )


def json_as_operator(client: TestClient, path: str, body: dict[str, Any]) -> Any:
    csrf = client.get("/api/csrf").json()["csrf_token"]
    return client.post(path, json=body, headers={"Authorization": f"Bearer {TOKEN}", "X-CSRF-Token": csrf})
