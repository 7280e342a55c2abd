"""The naive design, as a baseline only: one Celery task per recipient, each rendering the
newsletter from scratch (Jinja, Markdown, layout, mrml, CSS inlining, then ``EmailMessage``).

It is given every benefit that does not change the design: the campaign files are loaded once
per process, compiled templates stay cached, and each process keeps one SMTP connection open
instead of opening one per message. Workers start with ``celery -A bench.naive_app worker``.
"""

from __future__ import annotations

import smtplib
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

from celery import Celery

from campaign.settings import get_settings

QUEUE = "bench.naive"
TASK = "bench.naive_send"

app = Celery("wavecast-naive", broker=get_settings().broker_url or "redis://127.0.0.1:6379/15")
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_default_queue=QUEUE,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
)

_state: dict[str, Any] = {}


def _campaign(campaign_dir: str) -> dict[str, Any]:
    from pathlib import Path

    from campaign.bundle import load_bundle
    from campaign.render import campaign_hosts
    from campaign.segment import Assets
    from campaign.timing import resolve_starts

    cached = _state.get(campaign_dir)
    if cached is None:
        bundle = load_bundle(Path(campaign_dir))
        base = get_settings().base_url
        cached = _state[campaign_dir] = {
            "bundle": bundle,
            "starts": resolve_starts(bundle.spec),
            "assets": Assets(bundle, base),
            "hosts": campaign_hosts(bundle.spec),
        }
    return cached


def _smtp() -> smtplib.SMTP:
    conn = _state.get("smtp")
    if conn is None:
        parts = urlsplit(get_settings().smtp_url or "smtp://127.0.0.1:25")
        conn = _state["smtp"] = smtplib.SMTP(parts.hostname or "127.0.0.1", parts.port or 25, timeout=30)
    return conn  # type: ignore[no-any-return]


@app.task(name=TASK)
def naive_send(campaign_dir: str, wave_id: str, audience_id: str, contact_id: int) -> None:
    from sqlalchemy import select

    from audiences.models import contacts
    from audiences.tokens import unsubscribe_url
    from campaign.db import get_engine
    from campaign.mime import message_id
    from campaign.newsletter import render_newsletter
    from campaign.render import PERSONAL_FIELDS, SegmentKey
    from campaign.segment import message_for

    loaded = _campaign(campaign_dir)
    bundle = loaded["bundle"]
    spec = bundle.spec
    with get_engine().connect() as conn:
        email, first_name, organisation, lang = conn.execute(
            select(contacts.c.email, contacts.c.first_name, contacts.c.organisation_name, contacts.c.language).where(
                contacts.c.id == contact_id
            )
        ).one()
    lang = lang if lang in spec.campaign.languages else spec.campaign.languages[0]
    key = SegmentKey(wave_id, audience_id, lang, "newsletter")
    message = message_for(spec, wave_id, audience_id, "newsletter")
    assert message is not None
    base = get_settings().base_url
    unsubscribe = unsubscribe_url(contact_id)
    fields = {"first_name": first_name or "", "organisation_name": organisation or ""}
    start_at = loaded["starts"][wave_id]
    out = render_newsletter(
        bundle,
        key,
        message,
        start_at,
        base_url=base,
        hosts=loaded["hosts"],
        asset=loaded["assets"].url,
        contact={f: fields.get(f, "") for f in PERSONAL_FIELDS},
        unsubscribe_url=unsubscribe,
    )
    sender = spec.campaign.sender
    domain = sender.address.rpartition("@")[2]
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = Address(display_name=sender.name_in(lang), addr_spec=sender.address)  # one name per language
    msg["To"] = email
    msg["Subject"] = out.subject
    msg["Date"] = format_datetime(start_at)
    msg["Message-ID"] = message_id(spec.campaign.id, wave_id, contact_id, "newsletter", domain)
    msg["Content-Language"] = lang
    msg["List-Unsubscribe"] = f"<{unsubscribe}>, <mailto:unsubscribe@{domain}?subject=unsubscribe>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(out.text, cte="quoted-printable")
    msg.add_alternative(out.html, subtype="html", cte="quoted-printable")
    data = msg.as_bytes()
    try:
        _smtp().sendmail(sender.address, [email], data)
    except (smtplib.SMTPServerDisconnected, OSError):
        _state.pop("smtp", None)
        _smtp().sendmail(sender.address, [email], data)
