"""The FastAPI application factory. Each feature adds its router here, one line each."""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI

from frontends.web import error_pages

ROUTERS: list[str] = [
    # "frontends.web.preview", "frontends.web.unsubscribe", ... : modules exposing `router`
    "frontends.web.unsubscribe",
    "frontends.web.home",
    "frontends.web.dashboard",
    "frontends.web.preview",
    "frontends.web.subscribe",
    "frontends.web.preferences",
    "frontends.web.hosted_copy",
    "frontends.web.clicks",
    "frontends.web.bounce_hooks",
    "frontends.web.calendar_feed",
    "frontends.web.timeline",
    "frontends.web.editor",
    "frontends.web.signin",
    "frontends.web.oidc",
    "frontends.web.audit_page",
    "frontends.web.account_page",
]


def create_app(campaign_dir: Path | None = None) -> FastAPI:
    """Build the app; `campaign_dir` is the campaign the preview and dashboard show."""
    app = FastAPI(title="wavecast", docs_url=None, redoc_url=None)
    app.state.campaign_dir = campaign_dir
    error_pages.install(app)
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    return app
