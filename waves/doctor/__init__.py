"""The bulk-sender preflight (`wavecast doctor`): a campaign and the settings against the rules
Gmail and Yahoo set in 2024, as far as they can be known from here.

- one-click unsubscribe over https, seen in a built message (unsubscribe);
- the secret key, the relay's pace and the DKIM key (installation);
- the DKIM record, SPF and DMARC with alignment, from a records file or DNS (domain);
- the list's bounce and complaint history against each wave's size (history).

`run` returns every check; a fail blocks approval unless the approver overrides it with a
reason (waves.approval.approve_after_doctor), which the audit trail keeps.
"""

from __future__ import annotations

from pathlib import Path

from campaign.bundle import Bundle
from campaign.settings import Settings
from waves.assembly import assembled
from waves.doctor.check import Check, Status, failing
from waves.doctor.context import Context
from waves.doctor.domain import dkim_record, dmarc, spf
from waves.doctor.history import history
from waves.doctor.installation import dkim_key, relay_rate, secret_key
from waves.doctor.records import DnsTxt, RecordsFile, TxtSource, read_records
from waves.doctor.sample import build_sample
from waves.doctor.unsubscribe import one_click

__all__ = ["Check", "Status", "failing", "run"]


def run(
    bundle_or_campaign_dir: Bundle | Path | str | None,
    settings: Settings,
    records: RecordsFile | Path | None = None,
) -> list[Check]:
    """Every check, in the order a sender would fix them. Without a campaign, only the checks
    of the settings and the list run. `records`: a records file (read, or its path) instead of
    DNS; raises RecordsError naming the file and line of a malformed record."""
    bundle = (
        assembled(bundle_or_campaign_dir, render=False)
        if isinstance(bundle_or_campaign_dir, Path | str)
        else bundle_or_campaign_dir
    )
    txt: TxtSource | None
    if isinstance(records, Path):
        txt = read_records(records)
    elif records is not None:
        txt = records
    else:
        # Nothing leaves the machine without a relay: no DNS queries (and no waiting on them).
        txt = DnsTxt() if settings.smtp is not None else None
    ctx = Context(settings, bundle, txt, build_sample(bundle, settings))
    settings_checks = [secret_key(ctx), relay_rate(ctx), dkim_key(ctx)]
    if bundle is None:
        return settings_checks + history(ctx)
    return [one_click(ctx), *settings_checks, dkim_record(ctx), *spf(ctx), dmarc(ctx), *history(ctx)]
