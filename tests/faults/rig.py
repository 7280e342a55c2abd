"""The fault suite's rig: real services to break, a wave to send through them, and the count of
what arrived, by Message-ID at the SMTP sink, held against the ledger.

Sizes: a few hundred contacts, throttled so the wave lasts a few seconds, in `make test`;
50,000 unthrottled contacts with WAVECAST_FAULTS_FULL=1 (`make faults`).
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from bench.services import RedisServer
from bench.sink import SinkClient
from campaign.db import get_engine
from tests.accounts_setup import TESTER
from tests.scheduler_process import SchedulerProcess
from tests.worker_process import service_env

from .proxy import ProxyProcess
from .services import FaultWorker

FULL = os.environ.get("WAVECAST_FAULTS_FULL", "") == "1"
SIZE = 50_000 if FULL else 400
# Small runs are throttled (messages/s, shared by all workers) so that a fault lands mid-wave.
RATE: float | None = None if FULL else 100.0
SETTLE_SECONDS = 1800 if FULL else 150
# Relay connections per sending process (WAVECAST_SMTP_CONNECTIONS): each may leave one message
# unknown when its process dies, so the allowance is per connection.
CONNECTIONS = 4 if FULL else 2


def unknown_at_most(processes: int) -> int:
    """Duplicates allowed after a fault that hit `processes` sending processes: one per connection."""
    return processes * CONNECTIONS


WAVE = "first"


@dataclass
class Outcome:
    """One row of the table: what reached the sink, held against the ledger."""

    scenario: str
    database: str
    contacts: int
    delivered: int  # distinct Message-IDs of the wave at the sink
    lost: int  # people who should have had the message and did not
    duplicated: int  # copies beyond the first, per person
    allowed: int  # relay connections of the processes that were sending at the fault
    refused: int = 0  # rows failed on a 5xx for a chosen address: expected, not lost
    unsubscribed: int = 0  # rows skipped because the person unsubscribed during the wave
    late: int = 0  # messages that reached an unsubscribed person after the unsubscribe
    mismatched: int = 0  # ledger and sink disagree (sent but absent, or present but not sent)
    mixed_ids: int = 0  # people whose copies carry different Message-IDs
    posts: int = 0  # the wave's social posts (ledger rows of their own), published to the outbox feed
    posts_lost: int = 0  # post rows that never reached the feed
    posts_duplicated: int = 0  # feed lines beyond the first, per post (same idempotency key)
    seconds: float = 0.0
    note: str = ""

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.posts_lost == 0
            and self.duplicated + self.posts_duplicated <= self.allowed
            and self.late == 0
            and self.mismatched == 0
            and self.mixed_ids == 0
        )


RESULTS: list[Outcome] = []


@dataclass
class FaultRig:
    tmp: Path
    database: str  # "postgresql" or "sqlite"
    sink: SinkClient
    redis: RedisServer
    service_database_url: str  # what workers and schedulers use (through the proxy when there is one)
    settings: dict[str, str]
    size: int = SIZE
    workers: list[FaultWorker] = field(default_factory=list)
    schedulers: list[SchedulerProcess] = field(default_factory=list)
    started: float = field(default_factory=time.time)
    campaign_id: str = "mini"
    proxy: ProxyProcess | None = None

    def env(self) -> dict[str, str]:
        return service_env(**self.settings, WAVECAST_DATABASE_URL=self.service_database_url)

    def worker(self, name: str = "w1", concurrency: int = 2) -> FaultWorker:
        process = FaultWorker(self.env(), self.tmp / f"{name}.log", name=name, concurrency=concurrency)
        self.workers.append(process)
        process.start()
        return process

    def scheduler(self, name: str = "s1") -> SchedulerProcess:
        process = SchedulerProcess(self.env(), self.tmp / f"scheduler-{name}.log", name)
        self.schedulers.append(process)
        process.start()
        return process

    def campaign(self, *, always_open: bool = False):  # type: ignore[no-untyped-def]
        """`size` contacts and an approved copy of the minimal campaign, throttled in small runs."""
        from bench.common import insert_contacts
        from tests.sending_setup import always_open as open_always
        from tests.sending_setup import approved_campaign

        insert_contacts(self.size)
        if not always_open:
            return approved_campaign(self.tmp, rate=RATE)
        from campaign.bundle import load_bundle
        from campaign.db import session_scope
        from tests.campaign_copy import copy_campaign, edit
        from waves.approval import approve

        camp = copy_campaign(self.tmp)
        open_always(camp)
        if RATE is not None:
            edit(
                camp / "campaign.yaml",
                "ambitions:\n",
                f"channels:\n  newsletter: {{rate_per_second: {RATE}}}\n  x: {{}}\nambitions:\n",
            )
        bundle = load_bundle(camp)
        with session_scope() as session:
            for wave in bundle.spec.waves:
                approve(session, bundle, wave.id, TESTER)
        return bundle

    def launch(self, bundle) -> int:  # type: ignore[no-untyped-def]
        from waves.launch import launch_wave

        self.started = time.time()
        launched = launch_wave(bundle, WAVE, TESTER)
        assert launched.rows == self.size
        return launched.run_id

    def mid_wave(self) -> tuple[FaultWorker, int]:
        """A scheduler (its sweeper repairs), one worker, the wave launched and 30 % of it at the
        sink: the moment most scenarios break something. Returns the worker and the run id."""
        bundle = self.campaign()
        self.scheduler()
        worker = self.worker("w1", concurrency=2)
        run_id = self.launch(bundle)
        self.wait_sent(0.3)
        return worker, run_id

    def wait_sent(self, fraction: float, timeout: float = 300) -> None:
        """Wait until this share of the wave has reached the sink: the moment to break something."""
        self.sink.wait_for(int(self.size * fraction), timeout=timeout)

    def settle(self, run_id: int, timeout: float = SETTLE_SECONDS) -> dict[str, int]:
        """Wait until no row is pending or sending, then until the sink has been quiet for a while."""
        from bench.common import wait_settled

        counts = wait_settled(run_id, timeout=timeout, poll=0.3)
        quiet_since, last = time.time(), self.sink.count()
        while time.time() - quiet_since < 2.0:
            time.sleep(0.25)
            now = self.sink.count()
            if now != last:
                quiet_since, last = time.time(), now
        return counts

    def outcome(
        self,
        run_id: int,
        scenario: str,
        allowed: int,
        *,
        refused: Collection[str] = (),
        unsubscribed: dict[str, float] | None = None,
        note: str = "",
    ) -> Outcome:
        """Count what arrived by Message-ID and hold it against the ledger; record the table row."""
        from audiences.models import contacts
        from waves.models import SENT, SKIPPED, Delivery

        unsubscribed = unsubscribed or {}
        with get_engine().connect() as conn:
            rows = conn.execute(
                select(contacts.c.email, Delivery.status, Delivery.message_id)
                .join(contacts, contacts.c.id == Delivery.contact_id)
                .where(Delivery.run_id == run_id)
            ).all()
        copies: dict[str, list[tuple[float, str]]] = {}
        prefix = f"<{self.campaign_id}.{WAVE}."
        for at, to, message_id in self.sink.records():
            if message_id.startswith(prefix):
                copies.setdefault(to, []).append((at, message_id))
        lost = mismatched = refused_rows = skipped_rows = 0
        for email, status, _message in rows:
            arrived = bool(copies.get(email))
            if email in refused:
                refused_rows += status == "failed"
                mismatched += arrived
                continue
            if email in unsubscribed and status == SKIPPED:
                skipped_rows += 1
                continue
            lost += not arrived
            mismatched += arrived != (status == SENT)
        late = sum(1 for email, at in unsubscribed.items() for t, _m in copies.get(email, []) if t > at)
        posts, posts_lost, posts_duplicated, posts_mismatched = self.post_counts(run_id)
        result = Outcome(
            scenario=scenario,
            database=self.database,
            contacts=self.size,
            delivered=len({m for found in copies.values() for _t, m in found}),
            lost=lost,
            duplicated=sum(len(found) - 1 for found in copies.values()),
            allowed=allowed,
            refused=refused_rows,
            unsubscribed=skipped_rows,
            late=late,
            mismatched=mismatched + posts_mismatched,
            posts=posts,
            posts_lost=posts_lost,
            posts_duplicated=posts_duplicated,
            mixed_ids=sum(1 for found in copies.values() if len({m for _t, m in found}) > 1),
            seconds=time.time() - self.started,
            note=note,
        )
        RESULTS.append(result)
        return result

    def post_counts(self, run_id: int) -> tuple[int, int, int, int]:
        """The wave's posts held against the outbox feed: (posts, lost, duplicated, mismatched)."""
        from waves.models import SENT, Delivery

        with get_engine().connect() as conn:
            rows = conn.execute(
                select(Delivery.message_id, Delivery.status).where(
                    Delivery.run_id == run_id, Delivery.contact_id.is_(None)
                )
            ).all()
        lines: Counter[str] = Counter()
        for feed in (self.tmp / "outbox" / "social" / "published").glob("*.jsonl"):
            for line in feed.read_text(encoding="utf-8").splitlines():
                lines[json.loads(line)["idempotency_key"]] += 1
        lost = sum(1 for key, _status in rows if not lines[key])
        mismatched = sum(1 for key, status in rows if bool(lines[key]) != (status == SENT))
        return len(rows), lost, sum(max(0, lines[key] - 1) for key, _status in rows), mismatched

    def stop(self) -> None:
        for process in self.workers:
            process.stop()
        for process in self.schedulers:
            if process.proc is not None and process.proc.poll() is None:
                process.signal(signal.SIGCONT)
            process.stop()


def check(result: Outcome) -> None:
    """The expectations of every scenario, with the whole row in the message."""
    assert result.lost == 0, f"lost messages: {result}"
    assert result.posts > 0, f"the wave's posts are missing from the ledger: {result}"
    assert result.posts_lost == 0, f"lost posts: {result}"
    duplicated = result.duplicated + result.posts_duplicated
    assert duplicated <= result.allowed, f"more duplicates than relay connections sending at the fault: {result}"
    assert result.mixed_ids == 0, f"a duplicate carried another Message-ID: {result}"
    assert result.late == 0, f"messages after an unsubscribe: {result}"
    assert result.mismatched == 0, f"ledger and sink disagree: {result}"


def table(results: list[Outcome]) -> list[str]:
    """The results as a Markdown table."""
    lines = [
        "| scenario | database | contacts | delivered | lost | duplicated | allowed | refused (5xx) | "
        "unsubscribed | posts: published, lost, duplicated | seconds | result |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        verdict = "ok" if r.ok else "FAILED"
        lines.append(
            f"| {r.scenario} | {r.database} | {r.contacts:,} | {r.delivered:,} | {r.lost} | {r.duplicated} | "
            f"{r.allowed} | {r.refused} | {r.unsubscribed} | {r.posts - r.posts_lost}, {r.posts_lost}, "
            f"{r.posts_duplicated} | {r.seconds:.0f} | {verdict} |"
        )
    return lines
