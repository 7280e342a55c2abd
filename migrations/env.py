"""Alembic environment: the engine comes from wavecast's settings (campaign.db)."""

from __future__ import annotations

from alembic import context

import accounts.models  # noqa: F401 - accounts, tokens, sessions, the audit log (0010)
import audiences.models
import audiences.subscription_models  # noqa: F401 - consent, interests, requests: revision 0009
import campaign.clicks  # click counts and initiative requests: the tables of revision 0004
import campaign.initiative_models  # noqa: F401
import waves.bounces.models
import waves.models  # noqa: F401
from campaign.db import Base, engine_for
from campaign.settings import get_settings

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = config.attributes.get("engine") or engine_for(get_settings().database_url)
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    context.configure(url=get_settings().database_url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()
