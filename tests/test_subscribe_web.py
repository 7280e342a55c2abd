"""Subscribing over HTTP against a real server (uvicorn on loopback, the example campaign):
links replayed, expired or tampered with; one address in two cases; a flood from one client;
an erased address coming back; the JSON endpoint and its CORS. None of them gives a 500 or
tells whether an address is known."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update

from audiences.consent import UnknownContact, erase, show
from audiences.subscription_models import consent_records, subscription_events, subscription_requests
from audiences.subscriptions import expire
from audiences.upsert import add_contacts
from campaign.db import get_engine, utcnow
from tests.conftest import SMARTNATION, reset_caches
from tests.live_app import live_app

# One server for the module: its tests share one test process.
pytestmark = pytest.mark.xdist_group("subscribe_web")
LINK = re.compile(r"https?://\S+/subscribe/confirm/\S+")


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    """One server for the module; each test's own settings (database, outbox) apply per request."""
    with live_app(SMARTNATION) as url:
        yield url


@pytest.fixture
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=20) as http:
        yield http


def subscribe(client: httpx.Client, email: str, lang: str = "nl", **extra: object) -> httpx.Response:
    """Fill in the page's form as a browser would: the page first (its CSRF cookie and token)."""
    page = client.get(f"/subscribe?lang={lang}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, page.text
    fields = {"csrf_token": token.group(1), "email": email, "language": lang, "website": "", **extra}
    return client.post("/subscribe", data=fields)


def mails(tmp_path: Path) -> list[str]:
    """The confirmation links in the outbox, oldest first."""
    files = sorted((tmp_path / "outbox").rglob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    found = []
    for path in files:
        text = message_from_bytes(path.read_bytes(), policy=policy.default).get_content()  # type: ignore[attr-defined]
        found += LINK.findall(text)
    return found


def path_of(link: str) -> str:
    """The link's path: the mail names WAVECAST_BASE_URL, the test server listens elsewhere."""
    return urlsplit(link).path


def requests_held() -> int:
    with get_engine().connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(subscription_requests)) or 0)


def test_the_answer_is_the_same_whether_the_address_is_new_known_or_erased(
    client: httpx.Client, tmp_path: Path
) -> None:
    add_contacts([{"email": "known@example.org", "language": "nl"}])
    add_contacts([{"email": "gone@example.org", "language": "nl"}])
    erase("gone@example.org")
    answers = [subscribe(client, email) for email in ("new@example.org", "known@example.org", "gone@example.org")]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert "Bekijk je mailbox" in answers[0].text  # the campaign says "je" in Dutch
    api = [
        client.post("/api/subscribe", json={"email": e, "language": "fr"})
        for e in ("new2@example.org", "known@example.org")
    ]
    assert {a.status_code for a in api} == {202} and api[0].json() == api[1].json()
    assert len(mails(tmp_path)) == 5


def test_nothing_counts_until_the_link_is_followed_and_a_link_works_once(client: httpx.Client, tmp_path: Path) -> None:
    assert subscribe(client, "lea@example.org", "fr", first_name="Léa", interests="company").status_code == 200
    assert "contacts" not in show_or_none("lea@example.org")
    [link] = mails(tmp_path)
    asked = client.get(path_of(link))
    assert asked.status_code == 200 and "Confirmez que vous souhaitez" in asked.text
    assert "contacts" not in show_or_none("lea@example.org")  # a GET (a mail scanner) changes nothing
    done = client.post(path_of(link))
    assert done.status_code == 200 and "Vous êtes inscrit·e" in done.text
    record = show("lea@example.org")
    assert record["first_name"] == "Léa" and record["language"] == "fr" and record["subscribed"]
    with get_engine().connect() as conn:
        consent = conn.execute(select(consent_records)).mappings().one()
    assert (consent["source"], consent["language"], consent["text_version"]) == ("page", "fr", "2023-1")
    assert len(consent["text_hash"]) == 64 and requests_held() == 0
    replayed = client.post(path_of(link))
    tampered = client.post(path_of(link)[:-3] + ("AAA" if not link.endswith("AAA") else "BBB"))
    assert replayed.status_code == tampered.status_code == 400
    assert replayed.text == tampered.text and "lea" not in replayed.text


def show_or_none(email: str) -> dict[str, object]:
    try:
        return {"contacts": show(email)}
    except UnknownContact:
        return {}


def test_an_expired_link_is_refused_and_the_request_deleted_with_its_address(
    client: httpx.Client, tmp_path: Path
) -> None:
    from waves import personal_data

    subscribe(client, "late@example.org", "de")
    [link] = mails(tmp_path)
    [waiting] = personal_data.find("late@example.org").pending_subscriptions  # GDPR access shows it
    assert (waiting["language"], waiting["source"]) == ("de", "page")
    with get_engine().begin() as conn:
        conn.execute(update(subscription_requests).values(expires_at=utcnow()))
    refused = client.post(path_of(link), headers={"Accept-Language": "de-BE, de;q=0.9"})
    # The request is gone, so its language is too: the browser's is used.
    assert refused.status_code == 400 and "ungültig" in refused.text
    with get_engine().begin() as conn:
        assert expire(conn) == 1
        events = dict(conn.execute(select(subscription_events.c.event, func.count()).group_by("event")).all())
    assert requests_held() == 0 and events == {"requested": 1, "expired": 1}
    # Only the outbox's copy of the mail is left (the embedded default's stand-in for a relay).
    gone = personal_data.find("late@example.org")
    assert gone.pending_subscriptions == [] and gone.record is None and len(gone.outbox_files) == 1
    assert "contacts" not in show_or_none("late@example.org")


def test_one_address_in_two_cases_is_one_person(client: httpx.Client, tmp_path: Path) -> None:
    first, second = subscribe(client, "Anna.Peeters@Example.org"), subscribe(client, "anna.peeters@example.org")
    assert first.text == second.text
    links = mails(tmp_path)
    assert len(links) == 2
    for link in links:
        assert client.post(path_of(link)).status_code == 200
    with get_engine().connect() as conn:
        assert conn.scalar(select(func.count()).select_from(consent_records)) == 2
    assert show("ANNA.PEETERS@example.org")["email"] == "anna.peeters@example.org"


@pytest.mark.parametrize("counters", ["in-process", "redis"])
def test_a_flood_from_one_client_is_refused_and_sends_nothing_more(
    counters: str, client: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    if counters == "redis":
        monkeypatch.setenv("WAVECAST_BROKER_URL", request.getfixturevalue("redis_url"))
    # A key of this test's own: the in-process counters of earlier tests do not count here.
    monkeypatch.setenv("WAVECAST_SECRET_KEY", f"flood-{counters}-{tmp_path.name}")
    monkeypatch.setenv("WAVECAST_SUBSCRIBE_PER_CLIENT", "6")
    monkeypatch.setenv("WAVECAST_SUBSCRIBE_PER_ADDRESS", "2")
    reset_caches()
    same = [subscribe(client, "victim@example.org") for _ in range(4)]
    assert {r.status_code for r in same} == {200} and len({r.text for r in same}) == 1
    assert len(mails(tmp_path)) == 2  # one mailbox gets at most its limit, and no one is told
    more = [subscribe(client, f"bot{i}@example.org") for i in range(4)]
    assert [r.status_code for r in more] == [200, 200, 429, 429]
    assert more[2].headers["retry-after"] == "3600"
    api = client.post("/api/subscribe", json={"email": "bot9@example.org"})
    assert api.status_code == 429 and "too many" in api.json()["error"]
    assert len(mails(tmp_path)) == 4 and requests_held() == 4


def test_an_erased_address_comes_back_only_through_double_opt_in(
    client: httpx.Client, tmp_path: Path, capsys: pytest.CaptureFixture[str], signed_in: object
) -> None:
    from tests.cli import wavecast

    add_contacts([{"email": "back@example.org", "language": "en"}])
    erase("back@example.org")
    (tmp_path / "people.csv").write_text("email,language\nback@example.org,en\n")
    imported = wavecast(capsys, "contacts", "import", str(tmp_path / "people.csv"))
    assert imported.code == 0 and "1 kept out (on the suppression list" in imported.out
    assert "contacts" not in show_or_none("back@example.org")
    subscribe(client, "back@example.org", "en")
    assert "contacts" not in show_or_none("back@example.org")
    [link] = mails(tmp_path)
    assert client.post(path_of(link)).status_code == 200
    assert show("back@example.org")["subscribed"] is True
    shown = wavecast(capsys, "contacts", "show", "back@example.org")
    assert "Consent records (database: consent_records): 1" in shown.out
    assert "subscribed" in shown.out.split("Preference history")[1]


def test_honeypot_and_missing_csrf_store_nothing(client: httpx.Client, tmp_path: Path) -> None:
    trapped = subscribe(client, "robot@example.org", website="http://spam.example")
    assert trapped.status_code == 200 and "Bekijk je mailbox" in trapped.text
    forged = client.post("/subscribe", data={"email": "forged@example.org", "language": "nl"})
    assert forged.status_code == 400 and "Het formulier is verlopen" in forged.text
    bad = subscribe(client, "not an address")
    assert bad.status_code == 400 and "geldig e-mailadres" in bad.text
    assert requests_held() == 0 and mails(tmp_path) == []


def test_the_json_endpoint_answers_listed_origins_only(client: httpx.Client) -> None:
    origin = {"Origin": "https://smartnation.be"}
    preflight = client.options("/api/subscribe", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://smartnation.be"
    ok = client.post(
        "/api/subscribe",
        json={"email": "api@example.org", "first_name": "Jo", "language": "en", "interests": ["research"]},
        headers=origin,
    )
    assert ok.status_code == 202 and ok.headers["access-control-allow-origin"] == "https://smartnation.be"
    other = client.post("/api/subscribe", json={"email": "x@example.org"}, headers={"Origin": "https://evil.example"})
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
    for body in (b"not json", b"[1, 2]", b'{"email": 5}', b'{"email": "a@example.org", "interests": ["nope"]}'):
        answer = client.post("/api/subscribe", content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400 and "error" in answer.json()
    with get_engine().connect() as conn:
        row = conn.execute(select(subscription_requests)).mappings().one()
    assert (row["source"], row["interests"], row["language"]) == ("api", "research", "en")


def test_a_relay_that_is_away_gets_a_503_page_not_a_500(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import free_port

    monkeypatch.setenv("WAVECAST_SMTP_URL", f"smtp://127.0.0.1:{free_port()}")  # nothing listens there
    reset_caches()
    answer = subscribe(client, "patient@example.org", "en")
    assert answer.status_code == 503 and "We cannot send e-mail right now" in answer.text
    api = client.post("/api/subscribe", json={"email": "patient@example.org", "language": "en"})
    assert api.status_code == 503 and "try again later" in api.json()["error"]


def test_the_preference_centre_does_what_each_action_says(client: httpx.Client, tmp_path: Path) -> None:
    from audiences.tokens import unsubscribe_token
    from campaign.bundle import load_spec

    [contact_id] = add_contacts([{"email": "pref@example.org", "language": "nl"}])
    base = f"/u/{unsubscribe_token(contact_id)}"
    page = client.get(f"{base}/preferences")
    assert page.status_code == 200 and "Je voorkeuren" in page.text  # the campaign's register: je
    assert "Uw voorkeuren" in client.get(f"{base}/preferences?register=u").text  # the footer's, for seniors
    saved = client.post(
        f"{base}/preferences?lang=nl",
        data={"language": "fr", "interests": ["research"], "paused_until": "2099-01-01"},
    )
    assert saved.status_code == 400 and "binnen twee jaar" in saved.text  # nothing saved
    assert show("pref@example.org")["language"] == "nl"
    saved = client.post(f"{base}/preferences?lang=nl", data={"language": "fr", "interests": ["research"]})
    assert saved.status_code == 200 and "Enregistré." in saved.text and '<html lang="fr">' in saved.text
    left = client.post(f"{base}/leave?lang=fr")
    assert "Vous êtes désinscrit·e de cette campagne" in left.text
    assert show("pref@example.org")["unsubscribed_at"] is None  # other campaigns still write
    spec = load_spec(SMARTNATION)[0]
    data = client.get(f"{base}/data.json").json()
    assert data["email"] == "pref@example.org" and list(data["campaigns_left"]) == [spec.campaign.id]
    assert [c["kind"] for c in data["preference_changes"]] == [
        "language",
        "interests",
        "unsubscribed:campaign",
    ]
    everything = client.post(f"{base}/leave-all?lang=fr")
    assert "Vous êtes désinscrit·e de tout" in everything.text
    assert show("pref@example.org")["unsubscribed_at"] is not None
    asked = client.get(f"{base}/erase?lang=fr")
    assert asked.status_code == 200 and "En êtes-vous sûr·e" in asked.text
    assert show("pref@example.org")  # asking erases nothing
    erased = client.post(f"{base}/erase?lang=fr")
    assert erased.status_code == 200 and "Vos données sont effacées" in erased.text
    assert "contacts" not in show_or_none("pref@example.org")
    assert client.get(f"{base}/preferences").status_code == 404
    assert client.post(f"{base}x/leave-all").status_code == 400


def test_the_report_counts_subscriptions_per_language_and_interest(client: httpx.Client, tmp_path: Path) -> None:
    from campaign.bundle import load_bundle
    from waves.report import build_report

    subscribe(client, "one@example.org", "nl", interests=["company", "research"])
    subscribe(client, "two@example.org", "fr")
    for link in mails(tmp_path)[:1]:
        client.post(path_of(link))
    with get_engine().connect() as conn:
        counted = build_report(conn, load_bundle(SMARTNATION)).subscriptions
    assert counted == [
        {"event": "confirmed", "language": "nl", "interest": "company", "count": 1},
        {"event": "confirmed", "language": "nl", "interest": "research", "count": 1},
        {"event": "requested", "language": "fr", "interest": "", "count": 1},
        {"event": "requested", "language": "nl", "interest": "company", "count": 1},
        {"event": "requested", "language": "nl", "interest": "research", "count": 1},
    ]


def test_one_click_leaves_this_campaign_and_offers_everything_next(client: httpx.Client) -> None:
    from audiences.tokens import unsubscribe_token

    [contact_id] = add_contacts([{"email": "click@example.org", "language": "de"}])
    path = f"/u/{unsubscribe_token(contact_id)}"
    one_click = {"Content-Type": "application/x-www-form-urlencoded"}
    done = client.post(path, content="List-Unsubscribe=One-Click", headers=one_click)
    assert done.status_code == 200 and "Sie erhalten keine Nachrichten dieser Kampagne mehr" in done.text
    assert f'action="{path}/leave-all?lang=de&amp;register=Sie"' in done.text and "Von allem abmelden" in done.text
    assert show("click@example.org")["unsubscribed_at"] is None  # this campaign only
    assert "Sie sind bereits abgemeldet" in client.get(path).text
    client.post(f"{path}/leave-all?lang=de")
    after = client.get(path).text
    assert "Sie sind von allem abgemeldet" in after and "leave-all" not in after
