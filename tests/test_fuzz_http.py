"""Every HTTP route, fuzzed: schemathesis generates requests from the app's /openapi.json, and
hypothesis drives the routes the schema leaves out (the public unsubscribe page).

Each request is sent twice: as a stranger (no token, no CSRF) and as the operator (token and a
valid CSRF pair), so the fuzz reaches the handlers behind the checks. Expected: any 2xx, 3xx or
4xx; never a 500. The database is the embedded default (SQLite), with a few contacts and a wave
that is sending.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.exceptions import StarletteDeprecationWarning

from audiences.tokens import unsubscribe_token
from audiences.upsert import add_contacts
from campaign.db import get_engine
from frontends.web.app import create_app
from tests.accounts_setup import account_with_token
from tests.campaign_copy import copy_campaign
from tests.conftest import reset_caches
from tests.fuzz_cases import EXAMPLES, counter
from tests.web_rows import sending_run

with warnings.catch_warnings():
    # Starlette asks for its httpx fork; the released httpx it warns about works the same here.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

TOKEN = "operator-secret-for-fuzzing"
HTTP_EXAMPLES = max(5, EXAMPLES // 3)  # per route; every case is sent twice
# One app for the module: schemathesis reads its schema at collection. Each test points it at a
# fresh copy of the campaign (and the autouse fixture at a fresh database).
APP = create_app(None)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture
def web_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    reset_caches()
    account_with_token(TOKEN)  # every role: these tests are about pages, not about who may act
    camp = copy_campaign(tmp_path)
    add_contacts([{"email": f"reader{i}@example.org", "language": "nl", "birth_year": 1990} for i in range(3)])
    with get_engine().begin() as conn:
        sending_run(conn, camp)
    APP.state.campaign_dir = camp
    yield APP
    APP.state.campaign_dir = None


@pytest.fixture
def operator(web_app: object) -> dict[str, dict[str, str]]:
    """The operator's credentials: the token, and a CSRF cookie with its header."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        client = TestClient(web_app, base_url="http://127.0.0.1")  # type: ignore[arg-type]
    answer = client.get("/api/csrf", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    cookie = client.cookies.get(answer["cookie"])
    assert cookie, "the CSRF endpoint set no cookie"
    return {
        "headers": {"Authorization": f"Bearer {TOKEN}", answer["header"]: answer["csrf_token"]},
        "cookies": {answer["cookie"]: cookie},
    }


@schema.parametrize()
@settings(max_examples=HTTP_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_documented_routes_answer_4xx_never_500(
    case: schemathesis.Case, operator: dict[str, dict[str, str]], request: pytest.FixtureRequest
) -> None:
    counts = counter(request.config, "HTTP requests (schemathesis)")
    for credentials in ({}, operator):
        counts["HTTP requests (schemathesis)"] += 1
        response = case.call(**credentials)  # type: ignore[arg-type]
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code}"


@pytest.mark.usefixtures("web_app")
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    token=st.one_of(
        st.text(max_size=80),
        st.sampled_from(["", ".", "..", "%00", "a" * 5000, "eyJ0eXAi.Zm9v.YmFy"]),
        st.integers(-5, 50).map(lambda i: unsubscribe_token(i) if i > 0 else str(i)),
        st.integers(1, 3).map(lambda i: unsubscribe_token(i)[:-3] + "xyz"),
    ),
    method=st.sampled_from(["GET", "POST"]),
    body=st.sampled_from([b"", b"List-Unsubscribe=One-Click", b"\xff\xfe", b"a=" + b"b" * 10_000]),
    lang=st.sampled_from(["", "nl", "xx", "../../etc", "%00"]),
)
def test_unsubscribe_page_answers_4xx_never_500(
    web_app: object, request: pytest.FixtureRequest, token: str, method: str, body: bytes, lang: str
) -> None:
    counter(request.config, "HTTP requests (unsubscribe page)")["HTTP requests (unsubscribe page)"] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        client = TestClient(web_app, base_url="http://127.0.0.1")  # type: ignore[arg-type]
    path = "/u/" + quote(token, safe="")
    response = client.request(
        method,
        path,
        content=body if method == "POST" else None,
        params={"lang": lang} if lang else None,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code < 500, f"{method} {path}: {response.status_code}"


@settings(max_examples=max(5, EXAMPLES // 2), deadline=None, suppress_health_check=list(HealthCheck))
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["approve", "launch", "pause", "resume", "cancel"]),
            st.sampled_from(["first", "second", "nope", "first%00", "x" * 300]),
            st.sampled_from(["Ann", "Bob", "", " ", "Ann\r\nBcc: x", "é" * 300]),
        ),
        max_size=6,
    )
)
def test_wave_actions_in_any_order_answer_4xx_never_500(
    web_app: object,
    operator: dict[str, dict[str, str]],
    request: pytest.FixtureRequest,
    steps: list[tuple[str, str, str]],
) -> None:
    """Real wave ids, so the actions reach approval, launching (embedded: the .eml outbox) and
    the run's state machine, in any order."""
    counts = counter(request.config, "HTTP requests (wave actions in sequence)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        client = TestClient(web_app, base_url="http://127.0.0.1", cookies=operator["cookies"])  # type: ignore[arg-type]
    for action, wave, by in steps:
        counts["HTTP requests (wave actions in sequence)"] += 1
        response = client.post(
            f"/waves/{quote(wave, safe='')}/{action}",
            data={"by": by},
            headers=operator["headers"],
            follow_redirects=False,
        )
        assert response.status_code < 500, f"{action} {wave} by {by!r}: {response.status_code} {response.text[:300]}"


_SEGMENTS = st.sampled_from(
    [
        "..",
        ".",
        "%2e%2e",
        "%2E%2E%2F",
        "..%2F",
        "..%5C",
        "%2F",
        "%00",
        "%252e%252e",
        "images",
        "banner.png",
        "campaign.yaml",
        "messages",
        "hello",
        "youth.nl.md",
        "etc",
        "passwd",
        "a" * 300,
        "~",
        "%C0%AE%C0%AE",
    ]
)


@pytest.mark.usefixtures("web_app")
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    parts=st.lists(st.one_of(_SEGMENTS, st.text(max_size=20).map(lambda t: quote(t, safe=""))), max_size=8),
    prefix=st.sampled_from(["/assets/mini/", "/assets/mini", "/assets/", "/u/", "/c/", "/"]),
    lang=st.sampled_from(["", "nl", "fr;q=0.5, de", "xx", "%00", "," * 300]),
)
def test_any_path_gets_4xx_html_without_the_campaigns_file_names(
    web_app: object, request: pytest.FixtureRequest, parts: list[str], prefix: str, lang: str
) -> None:
    """Paths built from traversal pieces, encodings and NUL: never a 500, never a file name."""
    counter(request.config, "HTTP requests (paths)")["HTTP requests (paths)"] += 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StarletteDeprecationWarning)
        client = TestClient(web_app, base_url="http://127.0.0.1", raise_server_exceptions=False)  # type: ignore[arg-type]
    path = prefix + "/".join(parts)
    response = client.get(path, headers={"Accept-Language": lang} if lang else {}, follow_redirects=False)
    assert response.status_code < 500, f"GET {path}: {response.status_code}"
    if response.status_code >= 400 and not path.startswith("/api/"):
        assert response.headers["content-type"].startswith("text/html"), path
        for secret in ("campaign.yaml", ".md", "Traceback", "root:"):
            assert secret not in response.text, (path, secret)
