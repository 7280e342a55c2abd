"""The Celery app: imports on its own, JSON only, safe acknowledgements, timeouts under the visibility timeout."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

PROBE = """
import json, worker
c = worker.app.conf
print(json.dumps({
    "serializer": c.task_serializer, "accept": list(c.accept_content), "acks_late": c.task_acks_late,
    "reject_on_lost": c.task_reject_on_worker_lost, "prefetch": c.worker_prefetch_multiplier,
    "visibility": c.broker_transport_options["visibility_timeout"], "time_limit": c.task_time_limit,
    "queues": sorted(q.name for q in c.task_queues),
    "tasks": sorted(t for t in worker.app.tasks if t.startswith("wavecast.")),
}))
"""


def test_worker_imports_on_its_own_with_safe_settings() -> None:
    env = {"PATH": "/usr/bin:/bin", "WAVECAST_BROKER_URL": "redis://127.0.0.1:6379/9"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    conf = json.loads(result.stdout.strip().splitlines()[-1])
    assert conf["serializer"] == "json" and conf["accept"] == ["json"]
    assert conf["acks_late"] and conf["reject_on_lost"] and conf["prefetch"] == 1
    assert conf["queues"] == ["wavecast.control", "wavecast.send"]
    assert "wavecast.send_chunk" in conf["tasks"]
    from campaign.settings import load_settings

    defaults = load_settings({})
    # A task or a retry that outlives the visibility timeout would be delivered twice.
    assert conf["time_limit"] * 2 <= conf["visibility"]
    assert defaults.retry_max_seconds * 2 <= conf["visibility"]
    assert defaults.send_lease_seconds * 2 <= conf["visibility"]


def test_settings_refuse_a_retry_longer_than_half_the_visibility_timeout() -> None:
    import pytest

    from campaign.errors import SettingsError
    from campaign.settings import load_settings

    with pytest.raises(SettingsError, match="WAVECAST_RETRY_MAX_SECONDS"):
        load_settings({"WAVECAST_RETRY_MAX_SECONDS": "3000", "WAVECAST_VISIBILITY_TIMEOUT_SECONDS": "3600"})
