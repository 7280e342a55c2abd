"""Commands that send: approve, schedule, scheduler, send, status, pause, resume, cancel."""

from __future__ import annotations

import json
import logging
import signal
import time
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from accounts import audit
from audiences.consent import describe_counts, suppression_counts
from campaign.as_of import Today
from campaign.db import get_engine, session_scope
from campaign.errors import WavecastError
from campaign.settings import get_settings
from campaign.timing import resolve_starts
from frontends.cli import counting
from frontends.cli.app import CampaignOpt, DirArg, app, campaign_dir, open_bundle, out
from frontends.cli.as_of import say, warn_past
from frontends.cli.choices import check_picked
from frontends.cli.identity import acting
from frontends.cli.progress import following, working
from frontends.cli.waiting import campaign_tz, say_waiting
from waves import approval, control
from waves.deliverability import percent_of
from waves.models import Approval
from waves.proofs import send_proofs
from waves.scheduler import Scheduler, store_schedule
from waves.status import all_status, settled_so_far

WaveOpt = typer.Option(..., "--wave", help="The wave's id.", show_default=False)


@app.command()
def approve(
    directory: Path | None = DirArg,
    campaign: Path | None = CampaignOpt,
    wave: str = WaveOpt,
    override_doctor: str | None = typer.Option(
        None,
        "--override-doctor",
        help="Approve although `wavecast doctor` fails; the reason goes into the audit trail.",
        show_default=False,
    ),
) -> None:
    """Approve the current content of a wave (all audiences, languages and channels).

    `wavecast doctor` runs first: a failing check refuses the approval unless --override-doctor
    gives the reason to go past it. You approve as the account you signed in with (approver role)."""
    me = acting("wave.approve")
    directory = campaign_dir(directory, campaign)
    bundle = open_bundle(directory)
    check_picked(bundle.spec, wave=wave)
    with session_scope() as session:
        state = approval.approve_after_doctor(session, bundle, wave, me, override_doctor)
    out.print(f"wave {wave}: content {state.content_hash[:12]}: {state.describe()}")
    if not state.valid:
        out.print(f"it needs {state.required - len(state.approvers)} more approval(s) from another account")


@app.command()
def approvals(directory: Path | None = DirArg, campaign: Path | None = CampaignOpt) -> None:
    """The audit trail: who approved which content of which wave, and when."""
    directory = campaign_dir(directory, campaign)
    bundle = open_bundle(directory)
    table = Table("Wave", "State", "Approved by", "When (UTC)", "Content")
    table.add_column("Doctor override", overflow="fold")  # the reason, whole: it is the audit trail
    with session_scope() as session:
        for w in bundle.spec.waves:
            state = approval.approval_state(session, bundle, w.id)
            rows = session.scalars(
                select(Approval)
                .where(Approval.campaign_id == bundle.spec.campaign.id, Approval.wave_id == w.id)
                .order_by(Approval.approved_at)
            ).all()
            if not rows:
                table.add_row(w.id, state.describe(), "-", "-", state.content_hash[:12], "-")
            for row in rows:
                current = "current" if row.content_hash == state.content_hash else "outdated"
                table.add_row(
                    w.id,
                    state.describe(),
                    row.approved_by,
                    f"{row.approved_at:%Y-%m-%d %H:%M}",
                    f"{row.content_hash[:12]} ({current})",
                    Text(row.doctor_override or "-"),
                )
    out.print(table)


@app.command()
def schedule(directory: Path | None = DirArg, campaign: Path | None = CampaignOpt) -> None:
    """Store the due times of the approved waves in the database, for `wavecast scheduler`.

    Due times are real: the scheduler acts on them in real time, so there is no --as-of here."""
    me = acting("wave.schedule")
    directory = campaign_dir(directory, campaign)
    bundle = open_bundle(directory)
    warn_past(Today.of(None, bundle.spec.campaign.tz), resolve_starts(bundle.spec))
    table = Table("Wave", "Due (local)", "State", "Note")
    lines = store_schedule(bundle)
    with session_scope() as session:
        after = {line.wave_id: line.state for line in lines}
        audit.record(session, me, "wave.schedule", "campaign", bundle.spec.campaign.id, after=after)
    for line in lines:
        due = line.due_at.strftime("%a %d %b %Y %H:%M %Z") if line.due_at else "-"
        table.add_row(line.wave_id, due, line.state, line.note)
    out.print(table)


@app.command()
def scheduler(
    name: str | None = typer.Option(None, help="This scheduler's name in the lease (default host:pid)."),
) -> None:
    """Run the scheduler: launches waves when due, sweeps stuck rows. Run one more as standby.

    It launches as the account of WAVECAST_TOKEN: a service account with the operator role
    (`wavecast accounts add scheduler --service --role operator`, then `wavecast tokens create scheduler`)."""
    logging.getLogger().setLevel(logging.WARNING)
    get_engine()
    process = Scheduler(acting("wave.launch"), name)

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        process.run_forever()
    except KeyboardInterrupt:
        out.print(f"scheduler {process.name} stopped")


@app.command()
def send(
    directory: Path | None = DirArg,
    campaign: Path | None = CampaignOpt,
    wave: str = WaveOpt,
    test_to: str | None = typer.Option(None, "--test-to", help="Send proofs to this address only; no ledger."),
) -> None:
    """Launch a wave now (it must be approved; operator role), or send proofs with --test-to (editor role)."""
    me = acting("wave.proof" if test_to is not None else "wave.launch")
    directory = campaign_dir(directory, campaign)
    bundle = open_bundle(directory)
    check_picked(bundle.spec, wave=wave)
    if test_to is not None:
        sent = send_proofs(bundle, wave, test_to, me)
        out.print(f"sent {len(sent)} proof(s) of wave {wave} to {test_to}:")
        for subject in sent:
            out.print(f"  {subject}")
        return
    # Lazy: launching may queue chunks, and the Celery app (~0.2 s) is for the commands that do.
    from waves.launch import launch_wave

    starts = resolve_starts(bundle.spec)
    if wave in starts:
        say(Today.of(None, bundle.spec.campaign.tz).late_launch_notice(wave, starts[wave]))
    if get_settings().embedded:  # this process sends the wave: a bar follows its ledger
        shown = following(f"sending wave {wave}", lambda: _settled(bundle.spec.campaign.id, wave))
    else:
        shown = working(f"launching wave {wave}")
    with shown:
        launched = launch_wave(bundle, wave, me)
    if launched.recovered is not None:
        out.print(
            f"wave {wave}: run {launched.run_id} had stopped while sending; "
            f"{launched.recovered} row(s) it held were settled and {launched.chunks} chunk(s) sent now"
        )
        say_waiting(launched.run_id, wave, bundle.spec.campaign.tz)
        return
    if launched.resumed:
        out.print(f"wave {wave}: completed the launch of run {launched.run_id} that had stopped half-way")
    elif not launched.created:
        out.print(f"wave {wave} was launched before (run {launched.run_id}); nothing new was queued")
        return
    out.print(
        f"wave {wave}: run {launched.run_id}, {launched.rows} message(s) to people, {launched.posts} post(s), "
        f"{launched.chunks} chunk(s) queued"
    )
    say_waiting(launched.run_id, wave, bundle.spec.campaign.tz)


def _settled(campaign_id: str, wave: str) -> tuple[int, int] | None:
    try:
        with get_engine().connect() as conn:
            return settled_so_far(conn, campaign_id, wave)
    except SQLAlchemyError:  # the sending thread holds the database a moment: the bar waits
        return None


def _status_table(report: dict[str, Any]) -> Table:
    # The breaker's reason is long and is printed as its own line below the table.
    note = report["note"] if report["note"] and not report["breaker"] else None
    table = Table(title=f"{report['wave']} ({report['state']})" + (f": {note}" if note else ""))
    for column in ("Audience", "Language", "Channel", "Status", "Count"):
        table.add_column(column, justify="right" if column == "Count" else "left")
    per_channel: dict[str, int] = {}
    for row in report["breakdown"]:
        channel = row["channel"]
        per_channel[channel] = per_channel.get(channel, 0) + row["count"]
        table.add_row(
            row["audience"], row["language"], channel, row["status"], counting.messages(channel, row["count"])
        )
    totals = ", ".join(f"{k} {v}" for k, v in report["totals"].items())
    channels = ", ".join(f"{channel} {counting.messages(channel, n)}" for channel, n in per_channel.items())
    table.caption = f"totals: {totals}" + (f"\nper channel: {channels}" if channels else "")
    return table


@app.command()
def status(
    wave: str | None = typer.Option(None, "--wave", help="Only this wave."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    follow: bool = typer.Option(False, "--follow", help="Show progress bars until the wave is done."),
) -> None:
    """Counts per audience × language × channel × status for launched waves."""
    engine = get_engine()
    with engine.connect() as conn:
        reports = all_status(conn, wave)
        suppressed = describe_counts(suppression_counts(conn))
    if wave is not None and not reports:
        raise WavecastError(f"wave {wave!r} has not been launched")
    if follow:
        _follow(wave)
        return
    if as_json:
        print(json.dumps(reports[0] if wave is not None else reports, indent=2, ensure_ascii=False))
        return
    if not reports:
        out.print("no wave has been launched yet")
    for report in reports:
        out.print(_status_table(report))
        # Why rows failed, in the relay's or the platform's own words: a refused post is never silent.
        for failure in report["failures"]:
            out.print(
                f"failed {failure['count']} × {failure['channel']}: {failure['reason']}", markup=False, soft_wrap=True
            )
        line = bounce_line(report)
        if line is not None:
            out.print(line, markup=False, soft_wrap=True)
        if report["breaker"]:
            out.print(report["breaker"], markup=False, soft_wrap=True)
        if report["state"] == "running":
            say_waiting(report["run_id"], report["wave"], campaign_tz(report["campaign_dir"]))
    out.print(suppressed, markup=False, soft_wrap=True)


def _rate(count: int, rate: float | None, metric: str = "") -> str:
    shown = percent_of(metric, rate)
    return f"{count}" if shown is None else f"{count} ({shown}%)"


def bounce_line(report: dict[str, Any]) -> str | None:
    """The run's e-mails so far in one line: sent, bounces, complaints; None when it has none."""
    b = report["bounces"]
    if not b["planned"]:
        return None
    return (
        f"e-mails sent {b['emails']} (delivered {b['delivered']}); bounces so far: "
        f"{_rate(b['hard_bounces'], b['hard_bounces_rate'])} hard, "
        f"{_rate(b['soft_bounces'], b['soft_bounces_rate'])} soft; "
        f"complaints {_rate(b['complaints'], b['complaints_rate'], 'complaints')}; "
        f"suppressed before sending {b['suppressed_before_sending']}"
    )


def _follow(wave: str | None) -> None:
    engine = get_engine()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        console=out,
    ) as progress:
        tasks: dict[int, TaskID] = {}
        while True:
            with engine.connect() as conn:
                reports = all_status(conn, wave)
            busy = False
            for report in reports:
                totals = report["totals"]
                total = sum(totals.values())
                done = totals["sent"] + totals["failed"] + totals["skipped"]
                detail = (
                    f"{report['state']}  sent {totals['sent']} failed {totals['failed']} skipped {totals['skipped']}"
                )
                if report["run_id"] not in tasks:
                    tasks[report["run_id"]] = progress.add_task(report["wave"], total=total or 1, detail=detail)
                progress.update(tasks[report["run_id"]], completed=done, total=total or 1, detail=detail)
                busy = busy or report["state"] in ("launching", "running")
            if not busy:
                return
            time.sleep(0.5)


@app.command()
def pause(wave: str = typer.Argument(..., help="The wave's id.")) -> None:
    """Pause a sending wave: nothing more goes out until `resume`."""
    run = control.pause(wave, acting("wave.pause"))
    out.print(f"wave {run.wave_id} is {run.state}")


@app.command()
def resume(wave: str = typer.Argument(..., help="The wave's id.")) -> None:
    """Resume a paused wave; only what was not sent goes out."""
    # Lazy: resuming queues chunks, and the Celery app (~0.2 s) is for the commands that do.
    from waves.resume import resume as resume_run

    run = resume_run(wave, acting("wave.resume"))
    out.print(f"wave {run.wave_id} is {run.state}")
    if run.state == "running":
        say_waiting(run.id, run.wave_id, campaign_tz(run.campaign_dir))


@app.command()
def cancel(wave: str = typer.Argument(..., help="The wave's id.")) -> None:
    """Cancel a wave: what was not sent is skipped, for good."""
    run = control.cancel(wave, acting("wave.cancel"))
    out.print(f"wave {run.wave_id} is {run.state}")
