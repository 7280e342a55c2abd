"""The Celery application: start workers with `celery -A worker worker`."""

import sys

from campaign.dkim_signing import signer_for
from campaign.errors import SettingsError
from campaign.settings import get_settings

# Settings before anything else: a bad WAVECAST_* value stops the worker at start-up with the
# variable's name and exit status 2, not with Celery's traceback of a failed import. The DKIM
# key is read here too (once; the forked sending processes inherit it), not at the first message.
try:
    signer_for(get_settings())
except SettingsError as exc:
    sys.stderr.write(f"wavecast worker: {exc}\n")
    sys.exit(exc.exit_code)

from waves.tasks import app  # only once the settings are known to be good

__all__ = ["app"]
