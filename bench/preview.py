"""Rendering benchmark: the full preview matrix, and per-recipient personalisation against
rendering each recipient's newsletter from scratch, measured in the same run.

    .venv/bin/python -m bench.preview [CAMPAIGN_DIR] [--recipients N]
"""

from __future__ import annotations

import argparse
import time
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from campaign.bundle import load_bundle
from campaign.mime import message_id
from campaign.newsletter import NewsletterSegment, render_newsletter
from campaign.render import PERSONAL_FIELDS, campaign_hosts
from campaign.segment import Assets, forget, message_for, render_matrix, render_segment
from campaign.settings import get_settings
from campaign.timing import resolve_starts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "smartnation"
FIRST_NAMES = ("Sofie", "Amina", "Lucas", "Zoë", "Marcel", "Nathalie", "Yannick", "Ingrid", "Jérôme", "Özlem")
ORGANISATIONS = ("Bakkerij Verhaegen", "Atelier Lumen", "Kodalab BV", "Lambert Logistique SRL", "")


def _contact(i: int) -> dict[str, str]:
    return {"first_name": FIRST_NAMES[i % len(FIRST_NAMES)], "organisation_name": ORGANISATIONS[i % len(ORGANISATIONS)]}


def bench_matrix(directory: Path, rounds: int = 5) -> tuple[int, float, float]:
    """(outputs, first-run seconds, best steady seconds): the whole matrix rendered again
    from nothing each round (compiled templates stay cached, as in a long-running process)."""
    bundle = load_bundle(directory)
    times = []
    outputs = 0
    for _ in range(rounds):
        forget()
        start = time.perf_counter()
        outputs = len(render_matrix(bundle).outputs)
        times.append(time.perf_counter() - start)
    return outputs, times[0], min(times[1:] or times)


def bench_personalise(segment: NewsletterSegment, domain: str, count: int) -> float:
    """Seconds for `count` complete messages through NewsletterSegment.personalise."""
    base = get_settings().base_url
    contacts = [_contact(i) for i in range(64)]
    start = time.perf_counter()
    for i in range(count):
        segment.personalise(
            to=f"contact{i}@example.org",
            fields=contacts[i & 63],
            unsubscribe_url=f"{base}/u/token{i}",
            message_id=message_id("bench", segment.key.wave, i, "newsletter", domain),
        )
    return time.perf_counter() - start


def bench_scratch(directory: Path, segment: NewsletterSegment, domain: str, count: int) -> float:
    """Seconds for `count` messages rendered from scratch per recipient: Jinja, Markdown,
    layout, mrml, CSS inlining, then the stdlib EmailMessage."""
    bundle = load_bundle(directory)
    spec = bundle.spec
    key = segment.key
    message = message_for(spec, key.wave, key.audience, key.channel)
    assert message is not None
    start_at = resolve_starts(spec)[key.wave]
    base = get_settings().base_url
    assets = Assets(bundle, base)
    hosts = campaign_hosts(spec)
    sender = spec.campaign.sender
    start = time.perf_counter()
    for i in range(count):
        fields = _contact(i)
        unsubscribe = f"{base}/u/token{i}"
        out = render_newsletter(
            bundle,
            key,
            message,
            start_at,
            base_url=base,
            hosts=hosts,
            asset=assets.url,
            contact={f: fields.get(f, "") for f in PERSONAL_FIELDS},
            unsubscribe_url=unsubscribe,
        )
        msg = EmailMessage(policy=policy.SMTP)
        msg["From"] = Address(display_name=sender.name_in(key.lang), addr_spec=sender.address)
        msg["To"] = f"contact{i}@example.org"
        msg["Subject"] = out.subject
        msg["Date"] = format_datetime(start_at)
        msg["Message-ID"] = message_id("bench", key.wave, i, "newsletter", domain)
        msg["Content-Language"] = key.lang
        msg["List-Unsubscribe"] = f"<{unsubscribe}>, <mailto:unsubscribe@{domain}?subject=unsubscribe>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(out.text, cte="quoted-printable")
        msg.add_alternative(out.html, subtype="html", cte="quoted-printable")
        msg.as_bytes()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", nargs="?", type=Path, default=EXAMPLE)
    parser.add_argument("--recipients", type=int, default=100_000, help="messages through personalise")
    parser.add_argument("--scratch", type=int, default=300, help="messages rendered from scratch (the baseline)")
    args = parser.parse_args(argv)

    outputs, first, steady = bench_matrix(args.directory)
    print(
        f"preview matrix of {args.directory.name}: {outputs} outputs; first render {first * 1000:.0f} ms "
        f"({outputs / first:,.0f} outputs/s), steady {steady * 1000:.0f} ms ({outputs / steady:,.0f} outputs/s)"
    )

    bundle = load_bundle(args.directory)
    spec = bundle.spec
    wave = spec.waves[0]
    audience = next(a for m in wave.messages if "newsletter" in m.channels for a in m.audiences)
    segment = render_segment(bundle, wave.id, audience, spec.campaign.languages[0], "newsletter")
    assert isinstance(segment, NewsletterSegment)
    domain = spec.campaign.sender.address.rpartition("@")[2]
    size = len(segment.personalise("a@example.org", _contact(0), "https://x.example/u/t", "<a@b>"))
    fast = bench_personalise(segment, domain, args.recipients)
    slow = bench_scratch(args.directory, segment, domain, args.scratch)
    fast_rate, slow_rate = args.recipients / fast, args.scratch / slow
    print(f"newsletter {wave.id}/{audience}/{segment.key.lang} ({size / 1024:.0f} KB per message):")
    print(
        f"  personalise (once per segment, then per recipient): {fast_rate:,.0f} messages/s "
        f"({fast / args.recipients * 1e6:.1f} us each, {args.recipients:,} messages)"
    )
    print(
        f"  from scratch per recipient (Jinja, Markdown, layout, inlining, EmailMessage): {slow_rate:,.0f} messages/s "
        f"({slow / args.scratch * 1e3:.2f} ms each, {args.scratch} messages)"
    )
    print(f"  ratio: personalise is {fast_rate / slow_rate:,.0f}x faster")


if __name__ == "__main__":
    main()
