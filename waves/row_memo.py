"""The note a messenger keeps on a message's ledger row between tries (campaign/channel_contract.Memo).

A platform that takes media as a separate upload hands back an id before the post exists. The
id is written to the row as soon as the platform answers, so a worker that dies before the post
is published leaves it behind and the retry attaches the same upload: one upload per post,
however often the post is tried.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from campaign.db import get_engine
from waves.models import Delivery


@dataclass(frozen=True)
class RowMemo:
    row: int

    def read(self) -> str | None:
        """What an earlier try of this message kept, or None."""
        with get_engine().connect() as conn:
            found: str | None = conn.scalar(select(Delivery.media_id).where(Delivery.id == self.row))
        return found

    def keep(self, value: str | None) -> None:
        """Keep (or, with None, forget) the note, committed at once."""
        with get_engine().begin() as conn:
            conn.execute(update(Delivery).where(Delivery.id == self.row).values(media_id=value))
