"""What DKIM signing costs: the same wave sent unsigned, signed with RSA-2048 and with Ed25519,
end to end in the same run; and one signature made each way, per message.

- end to end: the throughput benchmark's rig and clock (bench/wave_throughput.py): N contacts,
  2 worker processes (`celery -A worker`), from the `launch_wave` call to the N-th message at the
  sink. Each run sends its own copy of the campaign (a wave is launched once per campaign) to the
  same contacts; the workers are restarted with the run's key (none, RSA-2048, Ed25519).
- per message, in this process, on one of the wave's real messages (21 KB): `dkim.sign` as
  dkimpy offers it, the parts of its cost, and wavecast's signer (campaign/dkim_signing.py).

    .venv/bin/python -m bench.dkim_signing [--contacts N] [--rounds R] [--database postgresql|sqlite]

The machine is shared, so the end-to-end rates move with whatever else runs: each round sends
all three waves in turn (the order turning from round to round) and the ratio is the median of
the rounds'. The sending processes' CPU time per message is printed too; it does not move with
the machine's load, and its difference between kinds is what signing costs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import EXAMPLE, approved, campaign_copy, insert_contacts, rig
from bench.services import exit_on_sigterm
from bench.wave_throughput import PROCESSES, WAVE, measure_wavecast

SELECTOR = "bench"
KINDS = ("unsigned", "rsa-sha256", "ed25519-sha256")


@dataclass
class Signing:
    contacts: int
    database: str
    rates: dict[str, list[float]] = field(default_factory=dict)  # kind -> messages/s, one per round
    cpu_ms: dict[str, list[float]] = field(default_factory=dict)  # kind -> sending processes' CPU per message
    per_message_ms: dict[str, float] = field(default_factory=dict)

    def ratio(self, kind: str) -> float:
        """Signed over unsigned throughput: the median of the rounds' ratios (each round has its
        own unsigned run, so a machine that slows down between rounds does not count)."""
        return statistics.median(s / u for s, u in zip(self.rates[kind], self.rates["unsigned"], strict=True))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _keys(directory: Path) -> dict[str, Path]:
    from campaign.dkim_keys import new_key, write_key

    files = {"rsa-sha256": directory / "dkim-rsa.pem", "ed25519-sha256": directory / "dkim-ed25519.pem"}
    write_key(files["rsa-sha256"], new_key("rsa", 2048))
    write_key(files["ed25519-sha256"], new_key("ed25519"))
    return files


def _sample_message() -> bytes:
    from campaign.bundle import load_bundle
    from campaign.mime import message_id
    from campaign.newsletter import NewsletterSegment
    from campaign.segment import render_segment

    bundle = load_bundle(EXAMPLE)
    audience = bundle.spec.wave(WAVE).messages[0].audiences[0]
    segment = render_segment(bundle, WAVE, audience, "nl", "newsletter")
    assert isinstance(segment, NewsletterSegment)
    domain = bundle.spec.campaign.sender.address.rpartition("@")[2]
    return segment.personalise(
        "person1@example.org",
        {"first_name": "Person1", "organisation_name": ""},
        "https://wavecast.example.org/u/t1",
        message_id(bundle.spec.campaign.id, WAVE, 1, "newsletter", domain),
    )


def _ms(function: Callable[[], object], count: int) -> float:
    function()
    started = time.perf_counter()
    for _ in range(count):
        function()
    return (time.perf_counter() - started) / count * 1000


def per_message(keys: dict[str, Path], count: int) -> dict[str, float]:
    """Milliseconds per message for each way of signing, and for the parts of dkimpy's."""
    import dkim
    from cryptography.hazmat.primitives import serialization
    from dkim.canonicalization import CanonicalizationPolicy
    from dkim.crypto import RSASSA_PKCS1_v1_5_sign, parse_pem_private_key

    from campaign.dkim_keys import read_key
    from campaign.dkim_signing import SIGNED_FIELDS, Signer, relaxed_body

    message = _sample_message()
    domain = b"bosa.fgov.be"
    rsa_pem = keys["rsa-sha256"].read_bytes()
    ed_key = read_key(keys["ed25519-sha256"])
    # dkimpy reads an Ed25519 key as the base64 of its 32 raw bytes, not as PEM.
    ed_raw = base64.b64encode(
        ed_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    )
    relaxed = (b"relaxed", b"relaxed")
    rsa_signer = Signer(read_key(keys["rsa-sha256"]), SELECTOR)
    ed_signer = Signer(ed_key, SELECTOR)
    parsed = parse_pem_private_key(rsa_pem)
    body = message.partition(b"\r\n\r\n")[2]
    policy = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
    few = max(20, count // 10)  # dkimpy's RSA is slow: fewer rounds say as much
    return {
        "dkim.sign, rsa-sha256": _ms(
            lambda: dkim.sign(
                message, SELECTOR.encode(), domain, rsa_pem, canonicalize=relaxed, include_headers=SIGNED_FIELDS
            ),
            few,
        ),
        "  of which the RSA signature (pure Python)": _ms(
            lambda: RSASSA_PKCS1_v1_5_sign(hashlib.sha256(b"x"), parsed), few
        ),
        "  of which parsing the PEM key": _ms(lambda: parse_pem_private_key(rsa_pem), count),
        "  of which parsing the whole message": _ms(lambda: dkim.rfc822_parse(message), count),
        "  of which the relaxed body canonicalisation": _ms(lambda: policy.canonicalize_body(body), count),
        "dkim.sign, ed25519-sha256": _ms(
            lambda: dkim.sign(
                message,
                SELECTOR.encode(),
                domain,
                ed_raw,
                canonicalize=relaxed,
                include_headers=SIGNED_FIELDS,
                signature_algorithm=b"ed25519-sha256",
            ),
            count,
        ),
        "the same canonicalisation by wavecast's relaxed_body": _ms(lambda: relaxed_body(body), count),
        "wavecast Signer, rsa-sha256": _ms(lambda: rsa_signer.sign(message), count),
        "wavecast Signer, ed25519-sha256": _ms(lambda: ed_signer.sign(message), count),
    }


def run(contacts: int, rounds: int, database: str | None = None, micro: int = 2000) -> Signing:
    with rig(database, name="dkim") as current:
        keys = _keys(current.workdir)
        result = Signing(contacts, current.db_kind, {kind: [] for kind in KINDS}, {kind: [] for kind in KINDS})
        result.per_message_ms = per_message(keys, micro)
        insert_contacts(contacts)
        for round_ in range(rounds):
            # The order turns each round, so no kind always runs on the warmest (or fullest) database.
            order = KINDS[round_ % 3 :] + KINDS[: round_ % 3]
            for kind in order:
                camp = campaign_copy(
                    current.workdir, EXAMPLE, campaign_id=f"dkim-{round_}-{kind[:3]}", unthrottled=True
                )
                bundle = approved(camp, [WAVE])
                current.settings.pop("WAVECAST_DKIM_KEY_FILE", None)
                current.settings.pop("WAVECAST_DKIM_SELECTOR", None)
                if kind != "unsigned":
                    current.settings["WAVECAST_DKIM_KEY_FILE"] = str(keys[kind])
                    current.settings["WAVECAST_DKIM_SELECTOR"] = SELECTOR
                current.start_workers(PROCESSES, prefix=f"{kind[:3]}{round_}-")
                # The pool children send; their CPU time does not depend on what else the machine runs.
                senders = [child for worker in current.workers for child in worker.children()]
                idle = sum(_cpu_seconds(pid) for pid in senders)
                rate, _launch, _first = measure_wavecast(current, bundle, contacts)
                cpu = sum(_cpu_seconds(pid) for pid in senders) - idle
                current.stop_workers()
                result.rates[kind].append(rate)
                result.cpu_ms[kind].append(cpu / contacts * 1000)
                print(
                    f"  round {round_ + 1}, {kind}: {rate:,.0f} messages/s; "
                    f"sending processes' CPU {cpu / contacts * 1000:.2f} ms per message",
                    flush=True,
                )
        return result


def report(result: Signing) -> list[str]:
    lines = ["one signature, per message (this process, a 21 KB message of the wave):"]
    lines += [f"  {name}: {ms:.3f} ms" for name, ms in result.per_message_ms.items()]
    rounds = len(result.rates["unsigned"])
    lines.append(
        f"the same wave end to end ({result.database}, {PROCESSES} worker processes, {result.contacts:,} contacts, "
        f"{rounds} round(s); median of the rounds):"
    )
    for kind in KINDS:
        lines.append(
            f"  {kind}: {statistics.median(result.rates[kind]):,.0f} messages/s; sending processes' CPU "
            f"{statistics.median(result.cpu_ms[kind]):.2f} ms per message"
        )
    lines.append(f"  RATIO dkim rsa-sha256 vs unsigned: {result.ratio('rsa-sha256'):.2f} (target >= 0.70)")
    lines.append(f"  RATIO dkim ed25519-sha256 vs unsigned: {result.ratio('ed25519-sha256'):.2f} (no target)")
    return lines


def main(argv: list[str] | None = None) -> Signing:
    parser = argparse.ArgumentParser(prog="bench.dkim_signing", description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="each round sends the wave once per kind")
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default=None)
    parser.add_argument("--micro", type=int, default=2000, help="messages signed per way in the per-message part")
    args = parser.parse_args(argv)
    exit_on_sigterm()
    result = run(args.contacts, args.rounds, args.database, args.micro)
    for line in report(result):
        print(line, flush=True)
    return result


if __name__ == "__main__":
    main()
