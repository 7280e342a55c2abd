"""Who may do what: every state-changing web route and CLI command, with every role, with no
account, a revoked token and an expired session (or token). The expected matrix is the two
tables below; the routes and commands are read from the app, so a new one that is missing from
the tables fails here."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.routing import APIRoute
from sqlalchemy import func, select, update
from starlette.exceptions import StarletteDeprecationWarning

from accounts import directory, sessions
from accounts.models import ApiToken, WebSession
from accounts.roles import ROLES, NotAllowed, NotSignedIn, Role
from audiences.upsert import add_contacts
from campaign.db import get_engine, session_scope, utcnow
from campaign.initiative_models import InitiativeRequest
from campaign.settings import get_settings
from frontends.cli.app import command
from frontends.web.app import create_app
from frontends.web.security import PUBLIC_ROUTES, SESSION_COOKIE
from tests.accounts_setup import make_account
from tests.campaign_copy import copy_campaign
from tests.conftest import reset_caches
from tests.web_rows import pending_request, sending_run
from waves.models import Approval, WaveRun

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

# ---------------------------------------------------------------------------- the expected matrix

# Each state-changing web route -> the role it needs.
WEB: dict[tuple[str, str], Role] = {
    ("POST", "/waves/{wave_id}/approve"): Role.APPROVER,
    ("POST", "/waves/{wave_id}/launch"): Role.OPERATOR,
    ("POST", "/waves/{wave_id}/pause"): Role.OPERATOR,
    ("POST", "/waves/{wave_id}/resume"): Role.OPERATOR,
    ("POST", "/waves/{wave_id}/cancel"): Role.OPERATOR,
    ("POST", "/initiatives/{request_id}/review"): Role.APPROVER,
    ("POST", "/waves/{wave_id}/move"): Role.EDITOR,
    ("POST", "/edit/{wave}/{audience}/{lang}"): Role.EDITOR,
    ("POST", "/api/edit/{wave}/{audience}/{lang}"): Role.EDITOR,
}

# Each state-changing command -> the role it needs, and the arguments it is run with.
# "{camp}" is the test's campaign, "{csv}" a contacts file, "{out}" a file to write, "{req}" a request file.
CLI: dict[tuple[str, ...], tuple[Role, tuple[str, ...]]] = {
    ("approve",): (Role.APPROVER, ("approve", "{camp}", "--wave", "first")),
    ("send",): (Role.OPERATOR, ("send", "{camp}", "--wave", "first")),
    ("send", "--test-to"): (Role.EDITOR, ("send", "{camp}", "--wave", "first", "--test-to", "p@example.org")),
    ("schedule",): (Role.OPERATOR, ("schedule", "{camp}")),
    ("scheduler",): (Role.OPERATOR, ("scheduler",)),
    ("pause",): (Role.OPERATOR, ("pause", "second")),
    ("resume",): (Role.OPERATOR, ("resume", "second")),
    ("cancel",): (Role.OPERATOR, ("cancel", "second")),
    ("contacts", "import"): (Role.OPERATOR, ("contacts", "import", "{csv}", "--campaign", "{camp}")),
    ("contacts", "generate"): (Role.OPERATOR, ("contacts", "generate", "2", "--campaign", "{camp}")),
    ("contacts", "export"): (Role.OPERATOR, ("contacts", "export", "{out}")),
    ("contacts", "show"): (Role.OPERATOR, ("contacts", "show", "reader0@example.org")),
    ("contacts", "unsubscribe"): (Role.OPERATOR, ("contacts", "unsubscribe", "reader1@example.org")),
    ("contacts", "erase"): (Role.OPERATOR, ("contacts", "erase", "reader2@example.org")),
    ("initiatives", "submit"): (Role.EDITOR, ("initiatives", "submit", "{req}", "--campaign", "{camp}")),
    ("initiatives", "review"): (
        Role.APPROVER,
        ("initiatives", "review", "1", "--reject", "--reason", "off topic", "--campaign", "{camp}"),
    ),
    ("accounts", "add"): (Role.ADMIN, ("accounts", "add", "new-{role}@example.org", "--role", "viewer")),
    ("accounts", "roles"): (Role.ADMIN, ("accounts", "roles", "viewer@example.org", "--role", "viewer")),
    ("accounts", "unlock"): (Role.ADMIN, ("accounts", "unlock", "viewer@example.org")),
    ("accounts", "disable"): (Role.ADMIN, ("accounts", "disable", "nobody@example.org")),
    # Anyone manages their own tokens; another account's (the scheduler's) takes the admin role.
    ("tokens", "create"): (Role.ADMIN, ("tokens", "create", "scheduler", "--name", "x")),
    ("tokens", "revoke"): (Role.ADMIN, ("tokens", "revoke", "scheduler", "--name", "none")),
}

# Commands that change nothing, or only the signed-in person's own sign-in, or that are the
# installation's (run by whoever runs the machine, before or beside any account): not in the matrix.
NOT_GATED: dict[tuple[str, ...], str] = {
    **{(c,): "reads files or the database" for c in ("validate", "plan", "preview", "report", "status", "approvals")},
    **{(c,): "reads files or the database" for c in ("audiences", "forecast", "doctor", "serve", "schema")},
    ("initiatives", "list"): "reads",
    ("audit",): "reads (signed in)",
    ("audit", "verify"): "reads",
    ("accounts", "list"): "reads (signed in)",
    ("tokens", "list"): "reads (your own, or as admin)",
    ("accounts", "create-admin"): "first run only: refused once an admin exists",
    ("accounts", "password"): "your own password",
    ("accounts", "totp"): "your own one-time codes",
    ("accounts", "sign-out-everywhere"): "your own sessions",
    ("accounts", "language"): "your own interface language (another account's takes the admin role)",
    ("login",): "signing in: the password is the proof",
    ("logout",): "signing out: revokes the token it holds",
    ("db", "upgrade"): "the installation's schema, before any account can exist",
    ("db", "status"): "reads",
    ("dkim", "keygen"): "the installation's signing key, a file",
    ("bounces", "serve"): "the installation's bounce receiver (a service; not yet an account)",
    ("bounces", "poll"): "the installation's bounce mailbox poller (a service; not yet an account)",
    ("subscriptions", "expire"): "deletes only requests past their expiry, as every scheduler sweep does",
}

IDENTITIES = ["none", "revoked", "expired", *ROLES]
RUNS_FOREVER = {("scheduler",)}  # allowed: it would run until stopped (tests/test_scheduler.py starts it)


def expected(identity: str, role: Role) -> str:
    if identity in ("none", "revoked", "expired"):
        return "unauthenticated"
    return "allowed" if role == Role(identity) else "forbidden"


# ---------------------------------------------------------------------------- the scene


@dataclass
class Scene:
    campaign: Path
    tmp: Path
    tokens: dict[str, str]  # identity -> personal token
    session_cookie: str  # an all-roles account's session, expired
    env: dict[str, str]


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """One database for the whole matrix: the cells of one route run in order, each on what the
    cells before left (an approved wave, a paused run); a refused cell must change nothing."""
    tmp = tmp_path_factory.mktemp("matrix")
    env = {
        "WAVECAST_DATABASE_URL": f"sqlite:///{tmp / 'matrix.db'}",
        "WAVECAST_OUTBOX_DIR": str(tmp / "outbox"),
        "WAVECAST_SECRET_KEY": "test-secret-key",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("WAVECAST_TOKEN", raising=False)
        reset_caches()
        camp = copy_campaign(tmp)
        add_contacts([{"email": f"reader{i}@example.org", "language": "nl", "birth_year": 1990} for i in range(3)])
        with get_engine().begin() as conn:
            sending_run(conn, camp)
            pending_request(conn)
        tokens = {role: make_account(f"{role}@example.org", Role(role))[1] for role in ROLES}
        tokens["revoked"] = make_account("revoked@example.org", *ROLES)[1]
        with session_scope() as session:
            directory.add(session, "scheduler", [Role.OPERATOR], service=True)
        expired_actor, tokens["expired"] = make_account("expired@example.org", *ROLES)
        with session_scope() as session:
            session.execute(
                update(ApiToken)
                .where(ApiToken.name == "tests", ApiToken.account_id == _id("revoked"))
                .values(revoked_at=utcnow())
            )
            session.execute(
                update(ApiToken)
                .where(ApiToken.account_id == expired_actor.id)
                .values(expires_at=utcnow() - dt.timedelta(days=1))
            )
        with session_scope() as session:
            cookie = sessions.start(session, expired_actor)  # what the sign-in puts in the cookie
        with session_scope() as session:
            session.execute(update(WebSession).values(last_seen_at=utcnow() - dt.timedelta(days=1)))
        (tmp / "contacts.csv").write_text("email,language\nnew@example.org,nl\n", encoding="utf-8")
        (tmp / "request.yaml").write_text(REQUEST, encoding="utf-8")
        yield Scene(camp, tmp, tokens, cookie, env)
    reset_caches()


@pytest.fixture
def matrix(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> Scene:
    """Each test of the module back in the scene's database (every test starts isolated)."""
    for name, value in scene.env.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    return scene


def _id(email_local: str) -> int:
    from accounts.models import Account

    with session_scope() as session:
        return int(session.scalar(select(Account.id).where(Account.email == f"{email_local}@example.org")) or 0)


REQUEST = """\
id: civic-tech
organisation: Code for Belgium
contact_email: jane.doe@example.net
title: {nl: Civic tech, fr: Civic tech, de: Civic tech, en: Civic tech}
description: {nl: Samen bouwen, fr: Construire ensemble, de: Gemeinsam bauen, en: Building together}
ambition: skills
link: https://example.org/civic
"""


def snapshot() -> tuple[object, ...]:
    with get_engine().connect() as conn:
        approvals = conn.scalar(select(func.count()).select_from(Approval))
        runs = tuple(conn.execute(select(WaveRun.wave_id, WaveRun.state).order_by(WaveRun.id)).all())
        requests = tuple(conn.execute(select(InitiativeRequest.id, InitiativeRequest.status)).all())
    return approvals, runs, requests


# ---------------------------------------------------------------------------- the web


def _routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every route of the app, through the routers it includes (no router here has a prefix)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):  # FastAPI's included router, resolved lazily
            yield from _routes(route.original_router.routes)


def state_changing_routes() -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in _routes(create_app(None).routes)
        for method in route.methods
        if method not in ("GET", "HEAD")
    }


def test_every_state_changing_route_is_in_the_matrix_or_declared_public() -> None:
    routes = state_changing_routes()
    assert routes - set(WEB) - set(PUBLIC_ROUTES) == set(), "add the new route to WEB here, or to PUBLIC_ROUTES"
    assert set(WEB) <= routes and set(PUBLIC_ROUTES) <= routes, "a route in a table is gone from the app"
    assert set(WEB) & set(PUBLIC_ROUTES) == set()


FORMS = {"/initiatives/{request_id}/review": {"decision": "reject", "reason": "off topic"}}


@pytest.mark.parametrize("route", sorted(WEB), ids=lambda r: r[1])
def test_each_route_with_each_identity(matrix: Scene, route: tuple[str, str]) -> None:
    scene = matrix
    method, template = route
    path = template.replace("{wave_id}", "second" if "launch" not in template else "first").replace("{request_id}", "1")
    if template.endswith("approve"):
        path = path.replace("second", "first")
    client = TestClient(create_app(scene.campaign), client=("127.0.0.1", 50500), base_url="http://127.0.0.1")
    csrf = client.get("/api/csrf").json()["csrf_token"]
    form = {"csrf_token": csrf, **FORMS.get(template, {})}
    found = {}
    for identity in IDENTITIES:
        headers, cookies = {}, {}
        if identity == "expired":
            cookies = {SESSION_COOKIE: scene.session_cookie}
        elif identity != "none":
            headers = {"Authorization": f"Bearer {scene.tokens[identity]}"}
        client.cookies.update(cookies)
        before = snapshot()
        response = client.request(method, path, data=form, headers=headers, follow_redirects=False)
        client.cookies.pop(SESSION_COOKIE, None)
        got = {401: "unauthenticated", 403: "forbidden"}.get(response.status_code, "allowed")
        if got != "allowed":
            assert snapshot() == before, (identity, path)
        assert response.status_code < 500
        found[identity] = got
    assert found == {i: expected(i, WEB[route]) for i in IDENTITIES}


# ---------------------------------------------------------------------------- the command line


def command_paths() -> set[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    pending = [((), command())]
    while pending:
        prefix, group = pending.pop()
        for name, sub in getattr(group, "commands", {}).items():
            path = (*prefix, name)
            if getattr(sub, "commands", None):
                found.add(path) if getattr(sub, "invoke_without_command", False) else None
                pending.append((path, sub))
            else:
                found.add(path)
    return found


def test_every_command_is_in_the_matrix_or_declared_not_gated() -> None:
    paths = command_paths()
    in_matrix = {key for key in CLI if not key[-1].startswith("--")}
    assert paths - in_matrix - set(NOT_GATED) == set(), "add the new command to CLI here, or to NOT_GATED"
    assert in_matrix <= paths and set(NOT_GATED) <= paths, "a command in a table is gone from the CLI"


def _run(scene: Scene, identity: str, args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> BaseException | None:
    if identity == "none":
        monkeypatch.delenv("WAVECAST_TOKEN", raising=False)
        monkeypatch.setenv("WAVECAST_TOKEN_FILE", str(scene.tmp / "no-token"))
    else:
        monkeypatch.setenv("WAVECAST_TOKEN", scene.tokens[identity])
    get_settings.cache_clear()
    filled = [
        a.replace("{camp}", str(scene.campaign))
        .replace("{csv}", str(scene.tmp / "contacts.csv"))
        .replace("{out}", str(scene.tmp / f"export-{identity}.csv"))
        .replace("{req}", str(scene.tmp / "request.yaml"))
        .replace("{role}", identity)
        for a in args
    ]
    result = CliRunner().invoke(command(), filled, catch_exceptions=True)
    return result.exception if not isinstance(result.exception, SystemExit) else None


@pytest.mark.parametrize("key", sorted(CLI), ids=" ".join)
def test_each_command_with_each_identity(matrix: Scene, key: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> None:
    scene = matrix
    role, args = CLI[key]
    found = {}
    for identity in IDENTITIES:
        if key in RUNS_FOREVER and expected(identity, role) == "allowed":
            found[identity] = "allowed"  # not started here: it would not return
            continue
        before = snapshot()
        error = _run(scene, identity, args, monkeypatch)
        if isinstance(error, NotSignedIn):
            got = "unauthenticated"
        elif isinstance(error, NotAllowed) and "needs the" in str(error):
            got = "forbidden"
        else:
            got = "allowed"
        if got != "allowed":
            assert snapshot() == before, (identity, key)
        found[identity] = got
    assert found == {i: expected(i, role) for i in IDENTITIES}
