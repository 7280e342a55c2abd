"""The sender's domain as receivers see it in DNS: the DKIM record, SPF and DMARC.

Gmail and Yahoo (2024) want from a bulk sender: SPF and DKIM, a DMARC record with a p= policy,
and the From domain aligned with the DKIM signature's d= or the return path's (SPF) domain.
Each check reads TXT records through the context's source (a records file or DNS); when that
cannot answer, the check is a warning that says so, never a guess.

Relaxed alignment compares organisational domains. Without the public suffix list this module
takes the last two labels (three under a two-letter country code's co/com/org/net/gov/ac/edu),
which holds for the domains a government or company sends from.
"""

from __future__ import annotations

import re

import dkim

from campaign.dkim_keys import read_key, txt_record
from campaign.errors import SettingsError
from waves.doctor.check import Check, Status
from waves.doctor.context import NO_RELAY, Context
from waves.doctor.dkim_key import describe, kind, matches
from waves.doctor.records import Unreachable

_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu"}
_SPF = re.compile(r"^v=spf1(\s|$)", re.IGNORECASE)
_DMARC = re.compile(r"^v=DMARC1\s*(;|$)", re.IGNORECASE)
_ALL = re.compile(r"^([+?~-]?)all$", re.IGNORECASE)
POLICIES = ("none", "quarantine", "reject")


def tags(value: str) -> dict[str, str]:
    """A DKIM or DMARC record's tag=value list; names lower-case."""
    found = {}
    for part in value.split(";"):
        name, sep, text = part.partition("=")
        if sep:
            found[name.strip().lower()] = text.strip()
    return found


def organisational(domain: str) -> str:
    labels = domain.lower().rstrip(".").split(".")
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else 2
    return ".".join(labels[-keep:])


def aligned(domain: str, from_domain: str, *, strict: bool) -> bool:
    if strict:
        return domain.lower() == from_domain.lower()
    return organisational(domain) == organisational(from_domain)


def _unchecked(ctx: Context, name: str) -> Check | None:
    if ctx.txt is None:
        return Check(name, Status.WARN, NO_RELAY, "check the records now with `wavecast doctor DIR --records FILE`")
    if ctx.from_domain is None:
        return Check(name, Status.WARN, "not checked: no campaign given, so no sender domain", "give the campaign DIR")
    return None


def _lookup(ctx: Context, name: str, record: str) -> list[str] | Check:
    assert ctx.txt is not None
    try:
        return ctx.txt.txt(record)
    except Unreachable as exc:
        return Check(
            name,
            Status.WARN,
            f"not checked: DNS is not reachable from here ({exc})",
            "run it where DNS answers, or paste the published records into a file for --records FILE",
        )


def dkim_record(ctx: Context) -> Check:
    """selector._domainkey.<From domain> publishes the public half of the configured key, and a
    message signed with it verifies against that record (dkimpy, as a receiver would)."""
    name = "DKIM record"
    unchecked = _unchecked(ctx, name)
    if unchecked is not None:
        return unchecked
    dkim, domain = ctx.settings.dkim, ctx.from_domain
    assert domain is not None and ctx.txt is not None
    if dkim is None:
        # The DKIM key check fails for it already; one fail per cause.
        return Check(name, Status.WARN, "not checked: no DKIM key set (see DKIM key)", "set up the DKIM key first")
    try:
        key = read_key(dkim.key_file)
    except SettingsError:
        return Check(name, Status.WARN, "not checked: the DKIM key cannot be read (see DKIM key)", "fix the key first")
    record = f"{dkim.selector}._domainkey.{domain}"
    publish = f"publish {txt_record(dkim.selector, domain, key)}"
    values = _lookup(ctx, name, record)
    if isinstance(values, Check):
        return values
    if len(values) != 1:
        count = f"no TXT record at {record}" if not values else f"{len(values)} TXT records at {record}"
        return Check(name, ctx.weight, f"{count} ({ctx.txt.where})", publish)
    found = tags(values[0])
    if not found.get("p"):
        return Check(name, ctx.weight, f"{record} has no public key (p= empty: revoked)", publish)
    if found.get("k", "rsa").lower() != kind(key):
        return Check(name, ctx.weight, f"{record} is a k={found.get('k')} key; the key file's is {kind(key)}", publish)
    if not matches(key, found["p"]):
        return Check(
            name, ctx.weight, f"the key published at {record} is not the public half of {dkim.key_file}", publish
        )
    if not _verifies(ctx, record, values[0]):
        return Check(
            name,
            ctx.weight,
            f"{record} holds the key, but a message signed with it does not verify against the record",
            f"publish exactly: {txt_record(dkim.selector, domain, key)}",
        )
    if "y" in [flag.strip().lower() for flag in found.get("t", "").split(":")]:
        return Check(
            name,
            Status.WARN,
            f"{record} matches the key but is in testing mode (t=y): receivers may ignore the signature",
            "remove t=y from the record",
        )
    return Check(name, Status.PASS, f"{record} publishes the {describe(key)} key of {dkim.key_file} ({ctx.txt.where})")


def _verifies(ctx: Context, record: str, value: str) -> bool:
    """The sample message's signature checked by dkimpy against `value`; True when there is no
    signed sample to check (the one-click check reports a message that does not build)."""
    sample = ctx.sample
    if sample is None or sample.raw is None or not sample.signed:
        return True

    def txt(name: bytes, timeout: float = 5) -> bytes | None:
        return value.encode() if name.decode("ascii", "replace").rstrip(".").lower() == record.lower() else None

    return bool(dkim.verify(sample.raw, dnsfunc=txt))


def spf(ctx: Context) -> list[Check]:
    """SPF at the From domain and at the return path's domain (one check when they are the same)."""
    domains = {"From domain": ctx.from_domain, "return path": ctx.bounce_domain}
    if ctx.from_domain is None or ctx.from_domain == ctx.bounce_domain:
        return [_spf(ctx, "SPF", ctx.from_domain)]
    return [_spf(ctx, f"SPF ({role})", domain) for role, domain in domains.items()]


def _spf(ctx: Context, name: str, domain: str | None) -> Check:
    unchecked = _unchecked(ctx, name)
    if unchecked is not None or domain is None:
        return unchecked or Check(name, Status.WARN, "not checked: no domain")
    values = _lookup(ctx, name, domain)
    if isinstance(values, Check):
        return values
    assert ctx.txt is not None
    records = [v for v in values if _SPF.match(v)]
    if not records:
        return Check(
            name,
            ctx.weight,
            f"no SPF record (v=spf1) at {domain} ({ctx.txt.where})",
            f'publish {domain} TXT "v=spf1 include:<your relay\'s SPF domain> -all"',
        )
    if len(records) > 1:
        return Check(
            name,
            ctx.weight,
            f"{len(records)} SPF records at {domain}: receivers treat that as an error (permerror)",
            "merge them into one v=spf1 record",
        )
    record = records[0]
    terms = record.split()[1:]
    ends = [m.group(1) or "+" for m in (_ALL.match(t) for t in terms) if m]
    if ends and ends[-1] == "+":
        return Check(name, ctx.weight, f"{domain}: {record}: allows every server on the internet", "end it with -all")
    if not ends and not any(t.lower().startswith("redirect=") for t in terms):
        return Check(name, Status.WARN, f"{domain}: {record}: no all at the end", "end it with -all or ~all")
    if ends and ends[-1] == "?":
        return Check(name, Status.WARN, f"{domain}: {record}: ?all says nothing of other servers", "end it with -all")
    return Check(name, Status.PASS, f"{domain}: {record} ({ctx.txt.where})")


def dmarc(ctx: Context) -> Check:
    """_dmarc.<From domain> (or the organisational domain's) has a p= policy, and DKIM or SPF
    aligns with From under its adkim/aspf modes."""
    name = "DMARC"
    unchecked = _unchecked(ctx, name)
    if unchecked is not None:
        return unchecked
    domain, bounce = ctx.from_domain, ctx.bounce_domain
    assert domain is not None and bounce is not None and ctx.txt is not None
    records: list[str] = []
    at = f"_dmarc.{domain}"
    for candidate in dict.fromkeys((domain, organisational(domain))):
        at = f"_dmarc.{candidate}"
        values = _lookup(ctx, name, at)
        if isinstance(values, Check):
            return values
        records = [v for v in values if _DMARC.match(v)]
        if records:
            break
    if not records:
        return Check(
            name,
            ctx.weight,
            f"no DMARC record at _dmarc.{domain} ({ctx.txt.where})",
            f'publish _dmarc.{domain} TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"',
        )
    if len(records) > 1:
        return Check(name, ctx.weight, f"{len(records)} DMARC records at {at}", "keep one")
    found = tags(records[0])
    policy = found.get("p", "").lower()
    if policy not in POLICIES:
        return Check(name, ctx.weight, f"{at}: {records[0]}: no valid p= policy", "add p=none (or quarantine, reject)")
    by_dkim = ctx.settings.dkim is not None  # d= is the From domain itself: aligned in either mode
    by_spf = aligned(bounce, domain, strict=found.get("aspf", "r").lower() == "s")
    if not by_dkim and not by_spf:
        return Check(
            name,
            ctx.weight,
            f"{at}: p={policy}, but nothing aligns with From {domain}: no DKIM key, and the return path's "
            f"domain {bounce} is not aligned",
            "set up the DKIM key (or WAVECAST_BOUNCE_ADDRESS at the From domain)",
        )
    how = " and ".join(
        part for part, ok in ((f"DKIM (d={domain})", by_dkim), (f"SPF (return path at {bounce})", by_spf)) if ok
    )
    note = " (monitoring only: the bulk senders' minimum)" if policy == "none" else ""
    return Check(name, Status.PASS, f"{at}: p={policy}{note}; From aligned by {how} ({ctx.txt.where})")
