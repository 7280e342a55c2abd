"""`make demo`: the whole story on the embedded default, step by step, with no services.

SQLite in ./wavecast.db, tasks called in-process, e-mail written as .eml files to ./outbox.
Running it again is safe: accounts and contacts are kept, approvals kept, a launched wave is not sent twice.
The first run creates the team: an admin (signed in for the demo through .wavecast-demo-token) and two
approvers, each approving with a token of their own.

The example is the real campaign of 2023, so its waves lie in the past: the plan is read as of
the campaign's launch day (`--as-of`, default that day), and the launch wave is sent now, by hand,
as `wavecast send` does with any wave. No date in the campaign files is changed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from accounts import directory
from campaign.as_of import parse_as_of
from campaign.bundle import load_spec
from campaign.db import session_scope
from campaign.errors import SettingsError, WavecastError
from campaign.settings import get_settings
from campaign.timing import resolve_starts

CONTACTS = 2000
ADMIN = "admin@smartnation.example"  # the demo's first account: admin, operator, editor
# The example needs two different accounts holding the approver role (four eyes).
APPROVERS = ("ann.peeters@smartnation.example", "luc.dubois@smartnation.example")
TOKEN_FILE = Path(".wavecast-demo-token")  # the admin's sign-in, beside the demo's database


def step(title: str, *args: str, token: str | None = None, capture: bool = False) -> str:
    """Run one `wavecast` command as the demo's admin, or as the account of `token` (shown as
    WAVECAST_TOKEN=…); with `capture`, return what it printed (a token) instead of showing it."""
    who = "WAVECAST_TOKEN=… " if token else ""
    print(f"\n=== {title}\n$ {who}wavecast {' '.join(args)}", flush=True)
    env = {**os.environ, "WAVECAST_TOKEN_FILE": str(TOKEN_FILE.resolve())}
    if token:
        env["WAVECAST_TOKEN"] = token
    result = subprocess.run(
        [sys.executable, "-m", "frontends", *args], check=False, env=env, stdout=subprocess.PIPE if capture else None
    )
    if result.returncode != 0:
        print(f"\nthe demo stopped: `wavecast {' '.join(args)}` exited {result.returncode}", file=sys.stderr)
        sys.exit(result.returncode)
    if capture:
        printed = result.stdout.decode().strip()
        print(printed[:8] + "…  (the new token, shown once; the demo keeps it for the next step)", flush=True)
        return printed
    return ""


def has_account(email: str) -> bool:
    """Running the demo again finds the accounts of the first run."""
    with session_scope() as session:
        return directory.find(session, email) is not None


def team() -> list[str]:
    """The admin (signed in on this computer for the demo) and two approvers; a token for each approver."""
    if not has_account(ADMIN) or not TOKEN_FILE.exists():
        step(
            "0a. First run: the admin account (signed in here; a password can come later)",
            "accounts",
            "create-admin",
            ADMIN,
            "--role",
            "operator",
            "--role",
            "editor",
            "--tokens-only",
        )
    for email in APPROVERS:
        if not has_account(email):
            step(f"0b. An account for {email}, who approves", "accounts", "add", email, "--role", "approver")
    return [
        step(
            f"0c. A personal token for {email}",
            "tokens",
            "create",
            email,
            "--name",
            "demo",
            "--expires",
            "1",
            capture=True,
        )
        for email in APPROVERS
    ]


def launch_day(directory: str, as_of: str | None) -> str:
    """--as-of as given, or the day the campaign's first wave starts."""
    given = parse_as_of(as_of)
    if given is not None:
        return given.isoformat()
    return min(resolve_starts(load_spec(Path(directory))[0]).values()).date().isoformat()


def main(example: str, as_of: str | None = None) -> None:
    directory = str(Path(example))
    try:
        outbox = get_settings().outbox_dir.resolve()  # checks every setting before the first step
        day = launch_day(directory, as_of)
    except SettingsError as exc:
        print(f"wavecast demo: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (WavecastError, OSError, ValueError) as exc:
        print(f"wavecast demo: {exc}", file=sys.stderr)
        sys.exit(1)
    print(
        f"The example is a real campaign whose waves lie in the past: the demo reads its plan as of "
        f"{day} (--as-of {day}), and sends the launch wave now, to the local outbox only.",
        flush=True,
    )
    approver_tokens = team()
    step(
        f"1. {CONTACTS} synthetic contacts (plausible Belgian names; no real person)",
        "contacts",
        "generate",
        str(CONTACTS),
        "--seed",
        "2023",
    )
    step("2a. Validate the campaign files", "validate", "--strict", directory)
    step(f"2b. The plan, as of {day}", "plan", directory, "--as-of", day)
    step("3. Every message, per wave × audience × language × channel", "preview", directory, "--out", "preview")
    for email, token in zip(APPROVERS, approver_tokens, strict=True):
        step(f"4a. Approval by {email}", "approve", directory, "--wave", "launch", token=token)
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
        "  wavecast:        .venv/bin/wavecast --help  (or `source .venv/bin/activate`, then `wavecast --help`)\n"
        "  status:          .venv/bin/wavecast status --wave launch\n"
        f"  who did what:    WAVECAST_TOKEN_FILE={TOKEN_FILE} .venv/bin/wavecast audit\n"
        "  web preview:     .venv/bin/wavecast serve examples/smartnation  (http://127.0.0.1:8000)\n"
        "  report:          .venv/bin/wavecast report examples/smartnation --format html --out report.html"
    )


def parse(argv: list[str]) -> tuple[str, str | None]:
    """`python -m frontends.demo [DIR] [--as-of DATE]`."""
    as_of = None
    if "--as-of" in argv:
        at = argv.index("--as-of")
        if at + 1 >= len(argv):
            print("wavecast demo: --as-of needs a date, YYYY-MM-DD", file=sys.stderr)
            sys.exit(2)
        as_of = argv[at + 1]
        argv = argv[:at] + argv[at + 2 :]
    return (argv[0] if argv else "examples/smartnation"), as_of


if __name__ == "__main__":
    main(*parse(sys.argv[1:]))
