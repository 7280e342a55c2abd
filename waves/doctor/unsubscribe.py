"""One-click unsubscribe (RFC 8058), seen in a message built the way the newsletter channel
builds it: a List-Unsubscribe https link, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``,
and, when the message is signed, a DKIM signature that covers both (RFC 8058 section 4).

Looking at a real message, not at the settings alone, also catches a layout, MIME or signing
change that dropped a header.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from campaign.phrase import Phrase
from waves.doctor.check import Check, Status
from waves.doctor.context import Context
from waves.doctor.domain import tags

NAME = Phrase("one-click unsubscribe")
ONE_CLICK = "List-Unsubscribe=One-Click"
MUST_SIGN = ("list-unsubscribe", "list-unsubscribe-post")


def one_click(ctx: Context) -> Check:
    sample = ctx.sample
    if sample is None:
        return Check(NAME, Status.PASS, Phrase("the campaign sends no e-mail"))
    if sample.raw is None:
        return Check(
            NAME,
            Status.FAIL,
            Phrase("no message of %(where)s builds: %(error)s", where=sample.where, error=sample.error),
            Phrase("run `wavecast validate`"),
        )
    message = message_from_bytes(sample.raw, policy=policy.default)
    links = re.findall(r"<([^<>\s]+)>", str(message.get("List-Unsubscribe", "")))
    web = next((link for link in links if link.startswith(("https://", "http://"))), None)
    post = str(message.get("List-Unsubscribe-Post", "")).strip()
    if web is None or post != ONE_CLICK:
        missing = "List-Unsubscribe link" if web is None else f"List-Unsubscribe-Post: {ONE_CLICK}"
        return Check(
            NAME,
            ctx.weight,
            Phrase("the built message (%(where)s) has no %(missing)s", where=sample.where, missing=missing),
            Phrase("report this as a bug"),
        )
    if not web.startswith("https://"):
        return Check(
            NAME,
            ctx.weight,
            Phrase(
                "the built message's List-Unsubscribe is %(link)s (WAVECAST_BASE_URL): Gmail and Yahoo "
                "require one-click unsubscribe over https",
                link=web,
            ),
            Phrase("set WAVECAST_BASE_URL to the https address the web app is served at"),
        )
    signed: str = ""
    if sample.signed:
        covered = {h.strip().lower() for h in tags(str(message.get("DKIM-Signature", ""))).get("h", "").split(":")}
        unsigned = [h for h in MUST_SIGN if h not in covered]
        if unsigned:
            return Check(
                NAME,
                ctx.weight,
                Phrase("the DKIM signature of the built message does not cover %(fields)s", fields=", ".join(unsigned)),
                Phrase("report this as a bug: RFC 8058 asks the signature to cover both fields"),
            )
        signed = Phrase(", both under the DKIM signature")
    return Check(
        NAME,
        Status.PASS,
        Phrase(
            "List-Unsubscribe <%(link)s> and List-Unsubscribe-Post: %(one_click)s%(signed)s (%(where)s)",
            link=web,
            one_click=ONE_CLICK,
            signed=signed,
            where=sample.where,
        ),
    )
