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
from campaign.phrase import Phrase
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


def _unchecked(ctx: Context, name: Phrase) -> Check | None:
    if ctx.txt is None:
        return Check(
            name, Status.WARN, NO_RELAY, Phrase("check the records now with `wavecast doctor DIR --records FILE`")
        )
    if ctx.from_domain is None:
        return Check(
            name,
            Status.WARN,
            Phrase("not checked: no campaign given, so no sender domain"),
            Phrase("give the campaign DIR"),
        )
    return None


def _lookup(ctx: Context, name: Phrase, record: str) -> list[str] | Check:
    assert ctx.txt is not None
    try:
        return ctx.txt.txt(record)
    except Unreachable as exc:
        return Check(
            name,
            Status.WARN,
            Phrase("not checked: DNS is not reachable from here (%(error)s)", error=str(exc)),
            Phrase("run it where DNS answers, or paste the published records into a file for --records FILE"),
        )


def dkim_record(ctx: Context) -> Check:
    """selector._domainkey.<From domain> publishes the public half of the configured key, and a
    message signed with it verifies against that record (dkimpy, as a receiver would)."""
    name = Phrase("DKIM record")
    unchecked = _unchecked(ctx, name)
    if unchecked is not None:
        return unchecked
    dkim, domain = ctx.settings.dkim, ctx.from_domain
    assert domain is not None and ctx.txt is not None
    if dkim is None:
        # The DKIM key check fails for it already; one fail per cause.
        return Check(
            name,
            Status.WARN,
            Phrase("not checked: no DKIM key set (see DKIM key)"),
            Phrase("set up the DKIM key first"),
        )
    try:
        key = read_key(dkim.key_file)
    except SettingsError:
        return Check(
            name,
            Status.WARN,
            Phrase("not checked: the DKIM key cannot be read (see DKIM key)"),
            Phrase("fix the key first"),
        )
    record = f"{dkim.selector}._domainkey.{domain}"
    publish = Phrase("publish %(record)s", record=txt_record(dkim.selector, domain, key))
    values = _lookup(ctx, name, record)
    if isinstance(values, Check):
        return values
    if len(values) != 1:
        count = (
            Phrase("no TXT record at %(record)s", record=record)
            if not values
            else Phrase("%(count)d TXT records at %(record)s", count=len(values), record=record)
        )
        return Check(name, ctx.weight, Phrase("%(found)s (%(where)s)", found=count, where=ctx.txt.where), publish)
    found = tags(values[0])
    if not found.get("p"):
        return Check(
            name, ctx.weight, Phrase("%(record)s has no public key (p= empty: revoked)", record=record), publish
        )
    if found.get("k", "rsa").lower() != kind(key):
        return Check(
            name,
            ctx.weight,
            Phrase(
                "%(record)s is a k=%(published)s key; the key file's is %(kind)s",
                record=record,
                published=found.get("k", ""),
                kind=kind(key),
            ),
            publish,
        )
    if not matches(key, found["p"]):
        return Check(
            name,
            ctx.weight,
            Phrase(
                "the key published at %(record)s is not the public half of %(file)s",
                record=record,
                file=str(dkim.key_file),
            ),
            publish,
        )
    if not _verifies(ctx, record, values[0]):
        return Check(
            name,
            ctx.weight,
            Phrase(
                "%(record)s holds the key, but a message signed with it does not verify against the record",
                record=record,
            ),
            Phrase("publish exactly: %(record)s", record=txt_record(dkim.selector, domain, key)),
        )
    if "y" in [flag.strip().lower() for flag in found.get("t", "").split(":")]:
        return Check(
            name,
            Status.WARN,
            Phrase(
                "%(record)s matches the key but is in testing mode (t=y): receivers may ignore the signature",
                record=record,
            ),
            Phrase("remove t=y from the record"),
        )
    return Check(
        name,
        Status.PASS,
        Phrase(
            "%(record)s publishes the %(key)s key of %(file)s (%(where)s)",
            record=record,
            key=describe(key),
            file=str(dkim.key_file),
            where=ctx.txt.where,
        ),
    )


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
    if ctx.from_domain is None or ctx.from_domain == ctx.bounce_domain:
        return [_spf(ctx, Phrase("SPF"), ctx.from_domain)]
    return [
        _spf(ctx, Phrase("SPF (From domain)"), ctx.from_domain),
        _spf(ctx, Phrase("SPF (return path)"), ctx.bounce_domain),
    ]


def _spf(ctx: Context, name: Phrase, domain: str | None) -> Check:
    unchecked = _unchecked(ctx, name)
    if unchecked is not None or domain is None:
        return unchecked or Check(name, Status.WARN, Phrase("not checked: no domain"))
    values = _lookup(ctx, name, domain)
    if isinstance(values, Check):
        return values
    assert ctx.txt is not None
    records = [v for v in values if _SPF.match(v)]
    if not records:
        return Check(
            name,
            ctx.weight,
            Phrase("no SPF record (v=spf1) at %(domain)s (%(where)s)", domain=domain, where=ctx.txt.where),
            Phrase('publish %(domain)s TXT "v=spf1 include:<your relay\'s SPF domain> -all"', domain=domain),
        )
    if len(records) > 1:
        return Check(
            name,
            ctx.weight,
            Phrase(
                "%(count)d SPF records at %(domain)s: receivers treat that as an error (permerror)",
                count=len(records),
                domain=domain,
            ),
            Phrase("merge them into one v=spf1 record"),
        )
    record = records[0]
    terms = record.split()[1:]
    ends = [m.group(1) or "+" for m in (_ALL.match(t) for t in terms) if m]
    if ends and ends[-1] == "+":
        found = Phrase("%(domain)s: %(record)s: allows every server on the internet", domain=domain, record=record)
        return Check(name, ctx.weight, found, Phrase("end it with -all"))
    if not ends and not any(t.lower().startswith("redirect=") for t in terms):
        found = Phrase("%(domain)s: %(record)s: no all at the end", domain=domain, record=record)
        return Check(name, Status.WARN, found, Phrase("end it with -all or ~all"))
    if ends and ends[-1] == "?":
        found = Phrase("%(domain)s: %(record)s: ?all says nothing of other servers", domain=domain, record=record)
        return Check(name, Status.WARN, found, Phrase("end it with -all"))
    return Check(
        name,
        Status.PASS,
        Phrase("%(domain)s: %(record)s (%(where)s)", domain=domain, record=record, where=ctx.txt.where),
    )


def dmarc(ctx: Context) -> Check:
    """_dmarc.<From domain> (or the organisational domain's) has a p= policy, and DKIM or SPF
    aligns with From under its adkim/aspf modes."""
    name = Phrase("DMARC")
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
            Phrase("no DMARC record at _dmarc.%(domain)s (%(where)s)", domain=domain, where=ctx.txt.where),
            Phrase(
                'publish _dmarc.%(domain)s TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@%(domain)s"', domain=domain
            ),
        )
    if len(records) > 1:
        finding = Phrase("%(count)d DMARC records at %(record)s", count=len(records), record=at)
        return Check(name, ctx.weight, finding, Phrase("keep one"))
    found = tags(records[0])
    policy = found.get("p", "").lower()
    if policy not in POLICIES:
        finding = Phrase("%(record)s: %(value)s: no valid p= policy", record=at, value=records[0])
        return Check(name, ctx.weight, finding, Phrase("add p=none (or quarantine, reject)"))
    by_dkim = ctx.settings.dkim is not None  # d= is the From domain itself: aligned in either mode
    by_spf = aligned(bounce, domain, strict=found.get("aspf", "r").lower() == "s")
    if not by_dkim and not by_spf:
        return Check(
            name,
            ctx.weight,
            Phrase(
                "%(record)s: p=%(policy)s, but nothing aligns with From %(domain)s: no DKIM key, and the return "
                "path's domain %(bounce)s is not aligned",
                record=at,
                policy=policy,
                domain=domain,
                bounce=bounce,
            ),
            Phrase("set up the DKIM key (or WAVECAST_BOUNCE_ADDRESS at the From domain)"),
        )
    spf_part = Phrase("SPF (return path at %(bounce)s)", bounce=bounce)
    if by_dkim and by_spf:
        how = Phrase("DKIM (d=%(domain)s) and %(spf)s", domain=domain, spf=spf_part)
    else:
        how = Phrase("DKIM (d=%(domain)s)", domain=domain) if by_dkim else spf_part
    note = Phrase(" (monitoring only: the bulk senders' minimum)") if policy == "none" else ""
    return Check(
        name,
        Status.PASS,
        Phrase(
            "%(record)s: p=%(policy)s%(note)s; From aligned by %(how)s (%(where)s)",
            record=at,
            policy=policy,
            note=note,
            how=how,
            where=ctx.txt.where,
        ),
    )
