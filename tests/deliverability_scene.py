"""A campaign's e-mails with bounces, complaints and suppressions, for the deliverability tests
and for looking at the report and the status page with them.

The ledger rows are made here; every bounce and complaint goes through the real intake
(`waves.bounces.intake.take`), so the breaker, the suppression policy and the complaint's
unsubscribe run as they do in production. Set WAVECAST_BREAKER_MIN_MESSAGES=5 first: the
breaker judges these few e-mails then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import insert, select

from audiences.consent import erase, unsubscribe_email
from audiences.upsert import add_contacts
from campaign.db import get_engine, utcnow
from tests.campaign_copy import MINIMAL
from waves import ledger
from waves.bounces import intake
from waves.bounces.models import Kind
from waves.bounces.reports import Report
from waves.models import Delivery, WaveRun

REPORTED = dt.datetime(2024, 3, 4, 5, 6, tzinfo=dt.UTC)


def address(name: str) -> str:
    return f"{name}.secret-person@example.net"


@dataclass
class Scene:
    contacts: dict[str, int]
    rows: dict[str, int]  # the person (y0, f2, ...) -> their ledger row
    first: int
    second: int


def _run(conn, wave: str, state: str, at: dt.datetime) -> int:  # type: ignore[no-untyped-def]
    values = {
        "run_key": f"mini:{wave}",
        "campaign_id": "mini",
        "wave_id": wave,
        "campaign_dir": str(MINIMAL),
        "content_hash": "h" * 64,
        "state": state,
        "launched_by": "test",
        "created_at": at,
        "updated_at": at,
    }
    return int(conn.execute(insert(WaveRun).values(**values)).inserted_primary_key[0])


def _report(row: int, kind: Kind, status: str, evidence: str) -> Report:
    return Report(delivery_id=row, kind=kind, status_code=status, reported_at=REPORTED, evidence=evidence)


def make_scene() -> Scene:
    """Wave `first` (running when its bounces arrive) and `second` (done), launched yesterday.

    first, youth/nl:     y0 sent; y1 sent, hard bounce (then erased); y2 sent, complaint;
                         y3 unsubscribed after the launch, skipped when its turn came.
    first, citizens/fr:  f0 sent, then unsubscribed; f1 sent; f2 refused by our relay (hard);
                         f3 sent, soft bounce; f4 skipped because the wave was cancelled.
    first, youth/nl, x:  one post (no e-mail: not in the deliverability figures).
    second, citizens/nl: n0 sent, soft bounce; n1 sent.
    """
    young = dt.date.today().year - 20
    people = {
        **{f"y{i}": {"language": "nl", "birth_year": young} for i in range(4)},
        **{f"f{i}": {"language": "fr", "birth_year": 1970} for i in range(5)},
        **{f"n{i}": {"language": "nl", "birth_year": 1970} for i in range(2)},
    }
    ids = dict(zip(people, add_contacts({"email": address(n), **f} for n, f in people.items()), strict=True))
    launched = utcnow() - dt.timedelta(days=1)
    plan = {
        "y0": ("first", "youth", "sent", None),
        "y1": ("first", "youth", "sent", None),
        "y2": ("first", "youth", "sent", None),
        "y3": ("first", "youth", "pending", None),
        "f0": ("first", "citizens", "sent", None),
        "f1": ("first", "citizens", "sent", None),
        "f2": ("first", "citizens", "failed", f"550 5.1.1 <{address('f2')}>: Recipient address rejected"),
        "f3": ("first", "citizens", "sent", None),
        "f4": ("first", "citizens", "skipped", "wave cancelled"),
        "n0": ("second", "citizens", "sent", None),
        "n1": ("second", "citizens", "sent", None),
    }
    with get_engine().begin() as conn:
        runs = {"first": _run(conn, "first", "running", launched), "second": _run(conn, "second", "done", launched)}
        for name, (wave, audience, status, error) in plan.items():
            conn.execute(
                insert(Delivery).values(
                    run_id=runs[wave],
                    contact_id=ids[name],
                    channel="newsletter",
                    message_id=f"m-{name}",
                    audience_id=audience,
                    language=people[name]["language"],
                    status=status,
                    attempts=1,
                    claimed_at=launched,
                    last_error=error,
                )
            )
        conn.execute(
            insert(Delivery).values(
                run_id=runs["first"],
                channel="x",
                account="default",
                message_id="post",
                audience_id="youth",
                language="nl",
                status="sent",
                attempts=1,
            )
        )
        made = conn.execute(select(Delivery.id, Delivery.message_id).where(Delivery.message_id.like("m-%")))
        rows = {message_id.removeprefix("m-"): row for row, message_id in made}
    # y3 unsubscribes after the launch: the send loop's claim skips their row, as it does live.
    unsubscribe_email(address("y3"))
    with get_engine().begin() as conn:
        assert ledger.claim(conn, runs["first"], rows["y3"], rows["y3"], "test", 10) == []
    unsubscribe_email(address("f0"))
    # Reports arrive: from our own relay (a refusal at send time) and from mailboxes (DSN, ARF).
    outcome = intake.take(
        [
            _report(rows["y1"], Kind.HARD, "5.1.1", "dsn-y1"),
            _report(rows["y2"], Kind.COMPLAINT, "abuse", "arf-y2"),
            _report(rows["f3"], Kind.SOFT, "4.2.2", "dsn-f3"),
            _report(rows["n0"], Kind.SOFT, "4.4.1", "dsn-n0"),
        ],
        source="smtp",
    )
    assert (outcome.recorded, outcome.suppressed, outcome.paused) == (4, 2, [runs["first"]])
    relay = intake.take([_report(rows["f2"], Kind.HARD, "550", "relay-f2")], source="relay")
    assert (relay.recorded, relay.suppressed) == (1, 1)
    erase(address("y1"))  # the bounce outlives the person; the suppression keeps its reason
    erase(address("never-held"))
    return Scene(ids, rows, runs["first"], runs["second"])
