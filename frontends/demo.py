"""`make demo`: the whole story on the embedded default, step by step, with no services.

SQLite in ./wavecast.db, tasks called in-process, e-mail written as .eml files to ./outbox.
Running it again is safe: contacts are upserted, approvals kept, a launched wave is not sent twice.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from campaign.errors import SettingsError
from campaign.settings import get_settings

CONTACTS = 2000
APPROVERS = ("Ann Peeters", "Luc Dubois")  # the example needs two different people (four eyes)


def step(title: str, *args: str) -> None:
    print(f"\n=== {title}\n$ wavecast {' '.join(args)}", flush=True)
    result = subprocess.run([sys.executable, "-m", "frontends", *args], check=False)
    if result.returncode != 0:
        print(f"\nthe demo stopped: `wavecast {' '.join(args)}` exited {result.returncode}", file=sys.stderr)
        sys.exit(result.returncode)


def main(example: str) -> None:
    directory = str(Path(example))
    try:
        outbox = get_settings().outbox_dir.resolve()  # checks every setting before the first step
    except SettingsError as exc:
        print(f"wavecast demo: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    step(
        f"1. {CONTACTS} synthetic contacts (plausible Belgian names; no real person)",
        "contacts",
        "generate",
        str(CONTACTS),
        "--seed",
        "2023",
    )
    step("2a. Validate the campaign files", "validate", "--strict", directory)
    step("2b. The plan", "plan", directory)
    step("3. Every message, per wave × audience × language × channel", "preview", directory, "--out", "preview")
    for name in APPROVERS:
        step(f"4a. Approval by {name}", "approve", directory, "--wave", "launch", "--by", name)
    step(
        "4b. Proofs of the launch wave to the team",
        "send",
        directory,
        "--wave",
        "launch",
        "--test-to",
        "proofs@example.org",
    )
    step("4c. Send the launch wave (to the outbox)", "send", directory, "--wave", "launch")
    step("5a. Who got which message", "audiences", directory, "--wave", "launch")
    step("5b. Delivery status per audience × language", "status", "--wave", "launch")
    print(
        "\n=== 6. Where to look\n"
        f"  preview gallery: {Path('preview/index.html').resolve()}\n"
        f"  e-mails sent:    {outbox / 'email'}\n"
        f"  social outbox:   {outbox / 'social'}\n"
        "  status:          .venv/bin/wavecast status --wave launch\n"
        "  web preview:     .venv/bin/wavecast serve examples/smartnation  (http://127.0.0.1:8000)\n"
        "  report:          .venv/bin/wavecast report examples/smartnation --format html --out report.html"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/smartnation")
