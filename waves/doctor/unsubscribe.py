"""One-click unsubscribe (RFC 8058), seen in a message built the way the newsletter channel
builds it: a List-Unsubscribe https link, ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``,
and, when the message is signed, a DKIM signature that covers both (RFC 8058 section 4).

Looking at a real message, not at the settings alone, also catches a layout, MIME or signing
change that dropped a header.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from waves.doctor.check import Check, Status
from waves.doctor.context import Context
from waves.doctor.domain import tags

NAME = "one-click unsubscribe"
ONE_CLICK = "List-Unsubscribe=One-Click"
MUST_SIGN = ("list-unsubscribe", "list-unsubscribe-post")


def one_click(ctx: Context) -> Check:
    sample = ctx.sample
    if sample is None:
        return Check(NAME, Status.PASS, "the campaign sends no e-mail")
    if sample.raw is None:
        return Check(
            NAME, Status.FAIL, f"no message of {sample.where} builds: {sample.error}", "run `wavecast validate`"
        )
    message = message_from_bytes(sample.raw, policy=policy.default)
    links = re.findall(r"<([^<>\s]+)>", str(message.get("List-Unsubscribe", "")))
    web = next((link for link in links if link.startswith(("https://", "http://"))), None)
    post = str(message.get("List-Unsubscribe-Post", "")).strip()
    if web is None or post != ONE_CLICK:
        missing = "List-Unsubscribe link" if web is None else f"List-Unsubscribe-Post: {ONE_CLICK}"
        return Check(NAME, ctx.weight, f"the built message ({sample.where}) has no {missing}", "report this as a bug")
    if not web.startswith("https://"):
        return Check(
            NAME,
            ctx.weight,
            f"the built message's List-Unsubscribe is {web} (WAVECAST_BASE_URL): Gmail and Yahoo "
            "require one-click unsubscribe over https",
            "set WAVECAST_BASE_URL to the https address the web app is served at",
        )
    signed = ""
    if sample.signed:
        covered = {h.strip().lower() for h in tags(str(message.get("DKIM-Signature", ""))).get("h", "").split(":")}
        unsigned = [h for h in MUST_SIGN if h not in covered]
        if unsigned:
            return Check(
                NAME,
                ctx.weight,
                f"the DKIM signature of the built message does not cover {', '.join(unsigned)}",
                "report this as a bug: RFC 8058 asks the signature to cover both fields",
            )
        signed = ", both under the DKIM signature"
    return Check(
        NAME, Status.PASS, f"List-Unsubscribe <{web}> and List-Unsubscribe-Post: {ONE_CLICK}{signed} ({sample.where})"
    )
