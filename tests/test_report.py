"""The report's figures, checked against a ledger built here row by row, and its privacy."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from audiences.consent import erase
from audiences.models import contacts
from audiences.upsert import add_contacts
from campaign.bundle import Bundle, load_bundle
from campaign.db import get_engine
from frontends.cli.reports import to_csv, to_html
from tests.campaign_copy import MINIMAL
from tests.cli import wavecast
from waves.charts import report_charts
from waves.models import Delivery, WaveRun
from waves.report import Report, SegmentLine, build_report
from waves.status import all_status

T0 = dt.datetime(2023, 6, 12, 8, 0, tzinfo=dt.UTC)
TODAY = dt.date.today()
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


@dataclass
class Ledger:
    bundle: Bundle
    ids: dict[str, int]


def _run(conn, wave: str, at: dt.datetime) -> int:  # type: ignore[no-untyped-def]
    return int(
        conn.execute(
            insert(WaveRun).values(
                run_key=f"mini:{wave}",
                campaign_id="mini",
                wave_id=wave,
                campaign_dir=str(MINIMAL),
                content_hash="h" * 64,
                state="done",
                launched_by="test",
                created_at=at,
                updated_at=at,
            )
        ).inserted_primary_key[0]
    )


def _row(run_id: int, contact_id: int, audience: str, lang: str, status: str) -> dict[str, object]:
    return {
        "run_id": run_id,
        "contact_id": contact_id,
        "channel": "newsletter",
        "message_id": "m",
        "audience_id": audience,
        "language": lang,
        "status": status,
        "attempts": 1,
    }


def _post(run_id: int, audience: str, lang: str, status: str, reply: str | None = None) -> dict[str, object]:
    """A social post's ledger row: no contact, a platform account."""
    return {
        "run_id": run_id,
        "contact_id": None,
        "channel": "x",
        "account": "default",
        "message_id": f"post-{audience}-{lang}",
        "audience_id": audience,
        "language": lang,
        "status": status,
        "attempts": 1,
        "not_before": T0,
        "last_error": reply,
    }


@pytest.fixture
def ledger(database_url: str) -> Ledger:
    """Seven people, two runs, newsletter rows in every status, posts, unsubscribes and an erasure."""
    young = TODAY.year - 20
    people = {
        "c1": {"language": "nl", "birth_year": young},
        "c2": {"language": "fr", "birth_year": young},
        "c3": {"language": "nl", "birth_year": 1970},
        "c4": {"language": "nl", "birth_year": 1970},
        "c5": {"language": "fr", "birth_year": 1970},
        "c6": {"language": "en", "birth_year": 1970},
        "c7": {"language": "de", "birth_year": 1970},
    }
    ids = dict(
        zip(
            people,
            add_contacts(
                {"email": f"{name}.secret-person@example.net", "first_name": name.upper(), **fields}
                for name, fields in people.items()
            ),
            strict=True,
        )
    )
    with get_engine().begin() as conn:
        first = _run(conn, "first", T0)
        second = _run(conn, "second", T0 + dt.timedelta(days=7))
        conn.execute(
            insert(Delivery),
            [
                _row(first, ids["c1"], "youth", "nl", "sent"),
                _row(first, ids["c2"], "youth", "fr", "sent"),
                _row(first, ids["c3"], "citizens", "nl", "sent"),
                _row(first, ids["c4"], "citizens", "nl", "failed"),
                _row(first, ids["c5"], "citizens", "fr", "skipped"),
                _row(first, ids["c6"], "citizens", "en", "pending"),
                _row(first, ids["c7"], "citizens", "de", "sent"),
                _row(second, ids["c3"], "citizens", "nl", "sent"),
                _row(second, ids["c2"], "citizens", "fr", "sent"),
            ],
        )
        conn.execute(
            insert(Delivery),
            [
                _post(first, "youth", "nl", "sent"),
                _post(first, "youth", "fr", "pending"),
                _post(first, "citizens", "nl", "failed", "webhook answered 422: text too long"),
            ],
        )
        unsubscribed = {
            "c1": T0 + dt.timedelta(days=2),  # a recipient, inside the 7 days: counts
            "c3": T0 + dt.timedelta(days=8),  # a recipient of `first`, but too late; inside `second`'s window
            "c4": T0 + dt.timedelta(days=1),  # inside, but the message failed: not a recipient
            "c5": T0 - dt.timedelta(days=1),  # before the wave (that is why they were skipped)
        }
        for name, at in unsubscribed.items():
            conn.execute(update(contacts).where(contacts.c.id == ids[name]).values(unsubscribed_at=at))
    erase("c7.secret-person@example.net")  # the ledger keeps the row, without the person
    return Ledger(load_bundle(MINIMAL), ids)


def _line(report: Report, wave: str, audience: str, lang: str, channel: str = "newsletter") -> SegmentLine:
    return next(
        s for s in report.segments if (s.wave, s.audience, s.language, s.channel) == (wave, audience, lang, channel)
    )


def test_segment_counts_match_the_ledger(ledger: Ledger) -> None:
    with get_engine().connect() as conn:
        report = build_report(conn, ledger.bundle)
    youth_nl = _line(report, "first", "youth", "nl")
    assert (youth_nl.planned, youth_nl.sent, youth_nl.unsubscribed_7d) == (1, 1, 1)
    citizens_nl = _line(report, "first", "citizens", "nl")
    assert (citizens_nl.planned, citizens_nl.sent, citizens_nl.failed, citizens_nl.unsubscribed_7d) == (2, 1, 1, 0)
    citizens_fr = _line(report, "first", "citizens", "fr")
    assert (citizens_fr.planned, citizens_fr.skipped, citizens_fr.unsubscribed_7d) == (1, 1, 0)
    assert _line(report, "first", "citizens", "en").pending == 1
    erased = _line(report, "first", "citizens", "de")
    assert (erased.planned, erased.sent) == (1, 1)
    assert _line(report, "second", "citizens", "nl").unsubscribed_7d == 1
    # The three posts count in planned, sent, failed and pending exactly as e-mails do.
    assert report.totals() == {
        "planned": 12,
        "sent": 7,
        "failed": 2,
        "skipped": 1,
        "pending": 2,
        "unsubscribed_7d": 2,
        "posts": 3,
        "published": 1,
    }


def test_social_posts_produced_and_published_per_segment(ledger: Ledger) -> None:
    with get_engine().connect() as conn:
        report = build_report(conn, ledger.bundle)
    assert (_line(report, "first", "youth", "nl", "x").posts, _line(report, "first", "youth", "nl", "x").published) == (
        1,
        1,
    )
    assert _line(report, "first", "youth", "fr", "x").published == 0
    assert (_line(report, "first", "youth", "fr", "x").planned, _line(report, "first", "youth", "fr", "x").pending) == (
        1,
        1,
    )
    failed = _line(report, "first", "citizens", "nl", "x")
    assert (failed.posts, failed.planned, failed.failed) == (1, 1, 1)


def test_status_shows_a_failed_post_with_the_platform_reply(ledger: Ledger) -> None:
    with get_engine().connect() as conn:
        [first] = all_status(conn, "first")
    assert first["totals"] == {"pending": 2, "sending": 0, "sent": 5, "failed": 2, "skipped": 1}
    assert {"channel": "x", "reason": "webhook answered 422: text too long", "count": 1} in first["failures"]
    posts = [row for row in first["breakdown"] if row["channel"] == "x"]
    assert sorted((r["audience"], r["language"], r["status"]) for r in posts) == [
        ("citizens", "nl", "failed"),
        ("youth", "fr", "pending"),
        ("youth", "nl", "sent"),
    ]


def test_one_wave_only(ledger: Ledger) -> None:
    with get_engine().connect() as conn:
        report = build_report(conn, ledger.bundle, wave="second")
    assert {s.wave for s in report.segments} == {"second"}
    assert [w.id for w in report.waves] == ["second"]
    assert report.totals()["sent"] == 2


def test_ambition_lists_initiatives_waves_reach_and_kpis(ledger: Ledger) -> None:
    with get_engine().connect() as conn:
        report = build_report(conn, ledger.bundle)
    [skills] = report.ambitions
    assert skills.initiatives == ["Code school"]
    assert skills.waves == ["first"]
    assert skills.reached == 3  # c1, c2, c3 received `first`; the erased c7 no longer counts
    assert [(k.id, k.target) for k in skills.kpis] == [("basic", "80% by 2030")]


def test_coverage_is_the_share_of_current_members_reached(ledger: Ledger) -> None:
    with get_engine().connect() as conn:
        report = build_report(conn, ledger.bundle)
    coverage = {c.audience: (c.members, c.reached) for c in report.coverage}
    # Still subscribed: c2 (reached) and c6 (pending, never reached); c2 is also young.
    assert coverage == {"citizens": (2, 1), "youth": (1, 1)}
    assert report.coverage[0].share == 0.5


def test_no_report_format_carries_an_email_address(ledger: Ledger, capsys: pytest.CaptureFixture[str]) -> None:
    with get_engine().connect() as conn:
        report = build_report(conn, ledger.bundle)
    outputs = {
        "json": json.dumps(report.as_json()),
        "csv": to_csv(report),
        "html": to_html(report),
        "table": wavecast(capsys, "report", str(MINIMAL)).out,
    }
    for name, text in outputs.items():
        assert "secret-person" not in text, name
        assert not EMAIL.search(text), (name, EMAIL.search(text))
        for person in ("C1", "C2", "C3"):
            assert f">{person}<" not in text and f",{person}," not in text, name


def test_csv_holds_one_figure_per_row(ledger: Ledger) -> None:
    with get_engine().connect() as conn:
        text = to_csv(build_report(conn, ledger.bundle))
    lines = text.splitlines()
    assert lines[0] == "section,wave,audience,language,channel,ambition,item,metric,value"
    assert "segment,first,youth,nl,newsletter,,,sent,1" in lines
    assert "coverage,,citizens,,,,,coverage,0.5" in lines
    assert "ambition,,,,,skills,,reached,3" in lines


def test_html_report_embeds_its_three_charts_as_svg(ledger: Ledger) -> None:
    with get_engine().connect() as conn:
        report = build_report(conn, ledger.bundle)
    charts = report_charts(report)
    assert [c.id for c in charts] == ["reach", "languages", "status"]
    page = to_html(report)
    assert page.count("<svg") == 3
    assert "http://" not in page.replace("http://www.w3.org", "").replace("http://purl.org", "").replace(
        "http://creativecommons.org", ""
    )
    assert '<html lang="en">' in page


def test_charts_say_so_when_nothing_was_sent(database_url: str) -> None:
    with get_engine().connect() as conn:
        report = build_report(conn, load_bundle(MINIMAL))
    assert all("<svg" in c.svg for c in report_charts(report))
    assert "No newsletter has been sent yet" in report_charts(report)[0].svg


def test_report_command_writes_each_format(ledger: Ledger, tmp_path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    for fmt in ("csv", "json", "html"):
        target = tmp_path / f"report.{fmt}"
        result = wavecast(capsys, "report", str(MINIMAL), "--format", fmt, "--out", str(target))
        assert result.code == 0, result.err
        assert target.stat().st_size > 100
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["totals"]["sent"] == 7
    assert "<svg" in (tmp_path / "report.html").read_text()


def test_unknown_wave_is_an_error_not_a_traceback(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    result = wavecast(capsys, "report", str(MINIMAL), "--wave", "nope")
    assert result.code == 1
    assert "unknown wave 'nope'" in result.err


def test_the_html_report_follows_language_and_the_table_stays_english(
    ledger: Ledger, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "rapport.html"
    result = wavecast(capsys, "report", str(MINIMAL), "--format", "html", "--language", "fr", "--out", str(target))
    assert result.code == 0, result.err
    page = target.read_text()
    assert '<html lang="fr">' in page and "Portée par public et par vague" in page
    assert "lettres d&#39;information envoyées" in page or "lettres d'information envoyées" in page  # an axis
    assert "Reach per audience per wave" not in page
    with get_engine().connect() as conn:
        assert "Reach per audience per wave" in to_html(build_report(conn, ledger.bundle))  # English by default


def test_an_unknown_report_language_is_an_error_not_a_traceback(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = wavecast(capsys, "report", str(MINIMAL), "--format", "html", "--language", "de")
    assert result.code == 1
    assert "--language de: the report is written in en, nl, fr" in result.err
