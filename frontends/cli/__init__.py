"""The `wavecast` command line. Errors become messages and exit codes, never tracebacks."""

from __future__ import annotations

import importlib
import logging
import sys
import traceback

from campaign.dkim_signing import signer_for
from campaign.errors import InvalidInput, WavecastError, internal_error_log
from campaign.settings import get_settings, mask_url
from frontends.cli.app import command, report

# Each module registers its commands on `app`; one line per feature.
COMMAND_MODULES = [
    "frontends.cli.files",
    "frontends.cli.database",
    "frontends.cli.contacts",
    "frontends.cli.audiences",
    "frontends.cli.sending",
    "frontends.cli.preview",
    "frontends.cli.reports",
    "frontends.cli.initiatives",
    "frontends.cli.serve",
    "frontends.cli.bounces",
    "frontends.cli.dkim",
    "frontends.cli.doctor",
    "frontends.cli.subscriptions",
    "frontends.cli.accounts",
    "frontends.cli.audit",
]

for _name in COMMAND_MODULES:
    importlib.import_module(_name)

EXIT_INTERNAL = 70


def main() -> None:
    """Entry point of the `wavecast` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        # Settings first: a bad WAVECAST_* value stops every command (serve and the scheduler
        # included) before it touches a file, the database or a relay. So does a DKIM key that
        # cannot be used, except for `wavecast dkim`, which makes the key, and `wavecast doctor`,
        # which reports it among its checks.
        settings = get_settings()
        if sys.argv[1:2] not in (["dkim"], ["doctor"]):
            signer_for(settings)
        command()()
    except InvalidInput as exc:
        report(exc.problems)
        errors = sum(1 for p in exc.problems if p.severity == "error")
        sys.stderr.write(f"{errors} error(s) found.\n")
        sys.exit(exc.exit_code)
    except WavecastError as exc:
        sys.stderr.write(f"wavecast: {exc}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("wavecast: interrupted\n")
        sys.exit(130)
    except Exception as exc:
        log = internal_error_log()
        try:
            log.write_text(traceback.format_exc(), encoding="utf-8")
            where = f" (details in {log})"
        except OSError:
            where = ""
        sys.stderr.write(f"wavecast: internal error: {type(exc).__name__}: {mask_url(str(exc))}{where}\n")
        sys.exit(EXIT_INTERNAL)
