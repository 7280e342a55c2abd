"""wavecast against django-post-office, end to end, on the same sink, the same contacts and the same
messages, with as many sending processes on each side; runs interleaved (wavecast, peer, wavecast,
peer...), medians.

- wavecast: `launch_wave` of the SmartNation `launch` wave on N contacts, 2 Celery worker
  processes; the clock runs from the launch call (which builds the ledger and queues the chunks)
  to the N-th message at the sink. The workers are started once, before the first round.
- django-post-office: in its own virtual environment (bench/.post-office-venv/, created on first
  use from bench/post_office_requirements.txt) and its own PostgreSQL database; the clock runs from
  the first `send_many` call (queueing the N mails in the database, 1,000 per call) to the N-th
  message at the sink, through `send_queued_mail_until_done` with 2 processes (the
  `send_queued_mail --processes 2` command). The mails carry the same subject, text and HTML as
  wavecast's, rendered by wavecast before the clock starts; the peer only fills in the name and the
  unsubscribe link (bench/post_office_peer.py).

    .venv/bin/python -m bench.post_office_comparison [--contacts 20000] [--rounds 3] [--connections 1]
    .venv/bin/python -m bench.post_office_comparison --setup    # create the peer's environment only
"""

from __future__ import annotations

import argparse
import email
import email.policy
import hashlib
import json
import os
import statistics
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import EXAMPLE, POSTGRES_URL, Rig, approved, campaign_copy, insert_contacts, rig
from bench.services import ROOT, exit_on_sigterm, postgres_available
from bench.wave_throughput import PROCESSES, WAVE, _segments, measure_wavecast

TARGET = 3.0
REQUIREMENTS = ROOT / "bench" / "post_office_requirements.txt"
VENV = ROOT / "bench" / ".post-office-venv"
PEER = ROOT / "bench" / "post_office_peer.py"
NAME_MARK = "@@FIRST_NAME@@"  # bench/post_office_peer.py fills these in
LINK_MARK = "@@UNSUBSCRIBE_TOKEN@@"
UNSUBSCRIBE_BASE = "https://wavecast.example.org/u/"


class PeerUnavailable(RuntimeError):
    """The peer's virtual environment is not there and may not be created now."""


def requirements_digest() -> str:
    return hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()


def peer_python(create: bool = True, venv: Path = VENV) -> Path:
    """The peer environment's interpreter, created (or rebuilt, if the pins changed) on demand."""
    python = venv / "bin" / "python"
    stamp = venv / ".requirements-sha256"
    if python.exists() and stamp.exists() and stamp.read_text(encoding="ascii").strip() == requirements_digest():
        return python
    if not create:
        raise PeerUnavailable(
            f"no django-post-office environment in {venv}: python -m bench.post_office_comparison --setup"
        )
    print(f"creating the django-post-office environment in {venv} from {REQUIREMENTS.name}", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
        check=True,
    )
    stamp.write_text(requirements_digest() + "\n", encoding="ascii")
    return python


def peer_content(campaign_dir: Path) -> dict[str, Any]:
    """The wave's subject, text and HTML per language as wavecast renders them, with the personal
    fields left as placeholders for the peer to fill in."""
    bundle, segments = _segments(str(campaign_dir))
    parts = {}
    for lang, segment in segments.items():
        fields = {"first_name": NAME_MARK, "organisation_name": ""}
        raw = segment.personalise("placeholder@example.org", fields, UNSUBSCRIBE_BASE + LINK_MARK, "<x@y>")
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None and html is not None, "the newsletter has a text and an HTML part"
        for part in (text, html):
            found = [mark for mark in ("{{", "{%", "{#") if mark in part.get_content()]  # type: ignore[attr-defined]
            if found:  # the peer's templates are Django templates: this would be read as template syntax
                raise ValueError(f"the {lang} newsletter contains {found[0]!r}, which the peer would read as Django")
        parts[lang] = {
            "subject": str(message["Subject"]),
            "text": text.get_content(),  # type: ignore[attr-defined]
            "html": html.get_content(),  # type: ignore[attr-defined]
        }
    return {
        "languages": list(bundle.spec.campaign.languages),
        "sender": str(bundle.spec.campaign.sender.address),
        "unsubscribe_base": UNSUBSCRIBE_BASE,
        "parts": parts,
    }


class PeerDatabase:
    """A PostgreSQL database of the peer's own on the benchmark's server, dropped afterwards."""

    def __init__(self) -> None:
        import sqlalchemy as sa

        self.name = "bench_post_office_" + uuid.uuid4().hex[:10]
        self.admin = sa.create_engine(
            POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
        )

    def __enter__(self) -> PeerDatabase:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc: object) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.admin.dispose()


@dataclass
class Peer:
    python: Path
    database: str
    smtp: str
    content: Path
    workdir: Path

    @property
    def options(self) -> list[str]:
        return ["--database", self.database, "--smtp", self.smtp, "--content", str(self.content)]

    def call(self, command: str, *args: str) -> dict[str, Any]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WAVECAST_", "PYTHON", "VIRTUAL_ENV"))}
        result = subprocess.run(
            [str(self.python), "-P", str(PEER), command, *self.options, *args],
            cwd=self.workdir,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"django-post-office {command} failed:\n{result.stderr[-3000:]}")
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    def send(self, current: Rig, contacts: int) -> tuple[float, dict[str, Any]]:
        """(messages/s end to end, what the peer reported)."""
        before = current.sink.count()
        lock = str(self.workdir / "post-office")
        report = self.call("send", "--contacts", str(contacts), "--processes", str(PROCESSES), "--lockfile", lock)
        if report["sent"] != contacts:
            raise RuntimeError(f"django-post-office sent {report['sent']} of {contacts}: {report}")
        stats = current.sink.wait_for(before + contacts)
        return contacts / (float(stats["last_at"]) - float(report["started"])), report


@dataclass
class Comparison:
    contacts: int
    connections: int
    wavecast_kb: float
    peer_kb: float
    wavecast: list[float] = field(default_factory=list)  # messages/s, one per round
    peer: list[float] = field(default_factory=list)
    peer_queue_seconds: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return statistics.median(self.wavecast) / statistics.median(self.peer)


def run(contacts: int, rounds: int, connections: int = 1) -> Comparison:
    if not postgres_available():
        raise PeerUnavailable("the comparison needs PostgreSQL on 127.0.0.1:5432 for both sides")
    python = peer_python()
    settings = {"WAVECAST_SMTP_CONNECTIONS": str(connections)}
    with rig("postgresql", name="post-office", settings=settings) as current, PeerDatabase() as database:
        insert_contacts(contacts)
        content = current.workdir / "peer-content.json"
        content.write_text(json.dumps(peer_content(campaign_copy(current.workdir, EXAMPLE))), encoding="utf-8")
        peer = Peer(python, database.name, current.sink.url.removeprefix("smtp://"), content, current.workdir)
        peer.call("migrate")
        _bundle, segments = _segments(str(current.workdir / EXAMPLE.name))
        wavecast_kb = len(next(iter(segments.values())).personalise("a@example.org", {}, "https://x/u/t", "<a@b>"))
        result = Comparison(contacts, connections, wavecast_kb / 1024, peer.call("size")["bytes"] / 1024)
        current.start_workers(PROCESSES)
        for index in range(rounds):
            name = f"po-{index}"
            bundle = approved(campaign_copy(current.workdir, EXAMPLE, campaign_id=name, unthrottled=True), [WAVE])
            rate, _launch, _first = measure_wavecast(current, bundle, contacts)
            result.wavecast.append(rate)
            print(f"  round {index + 1}: wavecast {rate:,.0f} messages/s", flush=True)
            rate, report = peer.send(current, contacts)
            result.peer.append(rate)
            result.peer_queue_seconds.append(float(report["queue_seconds"]))
            print(
                f"  round {index + 1}: django-post-office {rate:,.0f} messages/s "
                f"(queueing {report['queue_seconds']:.1f} s, sending {report['send_seconds']:.1f} s)",
                flush=True,
            )
        return result


def report(result: Comparison) -> list[str]:
    def rates(values: list[float]) -> str:
        return ", ".join(f"{v:,.0f}" for v in values)

    return [
        f"wavecast vs django-post-office (postgresql, {PROCESSES} sending processes each, "
        f"{result.contacts:,} contacts, {len(result.wavecast)} interleaved rounds; "
        f"wavecast {result.connections} relay connection(s) per process, "
        f"django-post-office its default 5 threads per process):",
        f"  message size: wavecast {result.wavecast_kb:.1f} KB, django-post-office {result.peer_kb:.1f} KB",
        f"  wavecast end to end (launch call -> last message at the sink): median "
        f"{statistics.median(result.wavecast):,.0f} messages/s ({rates(result.wavecast)})",
        f"  django-post-office end to end (first mail queued -> last message at the sink): median "
        f"{statistics.median(result.peer):,.0f} messages/s ({rates(result.peer)}); queueing took "
        f"{statistics.median(result.peer_queue_seconds):.1f} s of it (median)",
        f"  RATIO throughput vs django-post-office: {result.ratio:.2f} (target >= {TARGET:g})",
    ]


def main(argv: list[str] | None = None) -> Comparison | None:
    parser = argparse.ArgumentParser(prog="bench.post_office_comparison", description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each, interleaved; the medians count")
    parser.add_argument("--connections", type=int, default=1, help="wavecast's relay connections per process")
    parser.add_argument("--setup", action="store_true", help="create the peer's environment, then stop")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    if args.setup:
        print(peer_python())
        return None
    result = run(args.contacts, args.rounds, args.connections)
    for line in report(result):
        print(line, flush=True)
    return result


if __name__ == "__main__":
    main()
