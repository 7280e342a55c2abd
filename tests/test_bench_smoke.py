"""`python -m bench --quick` runs every benchmark at a tiny size and prints every ratio.

Not a timed test: it checks that the benchmarks still run and report, never how fast.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.services import RedisServer
from tests.conftest import ROOT, need, port_open

pytestmark = [
    pytest.mark.services,
    pytest.mark.slow,
    # Several minutes on two shared cores: it runs with `make bench`-style checks, not in every CI run.
    pytest.mark.skipif(not os.environ.get("WAVECAST_BENCH_SMOKE"), reason="set WAVECAST_BENCH_SMOKE=1 to run"),
]

RATIOS = [
    "RATIO throughput vs wire:",
    "RATIO throughput vs naive:",
    # Measured when the peer's environment exists (bench/.post-office-venv/, made by `make bench` or
    # `python -m bench.post_office_comparison --setup`); --quick never downloads it, and without it
    # the row says NOT MEASURED and why, so the row is there either way.
    "RATIO throughput vs django-post-office:",
    "RATIO relay 20 ms x 16 vs ideal:",
    "RATIO smtp ",
    "RATIO first message at 5,000 contacts vs 2 s:",
    "RATIO dkim rsa-sha256 vs unsigned:",
    "RATIO dkim ed25519-sha256 vs unsigned:",
    "RATIO memory ",
    "RATIO memory highest peak vs 150 MB:",
    "RATIO ledger vs raw insert:",
    "RATIO scheduling worst delay vs 1 s:",
    "RATIO preview validate+render vs 1 s:",
    "RATIO personalise vs render from scratch:",
]


def test_quick_benchmarks_print_every_ratio() -> None:
    need(RedisServer.available() or port_open("127.0.0.1", 6379), "redis-server, or Redis on 127.0.0.1:6379")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAVECAST_") or k.startswith("WAVECAST_TEST_")}
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "Traceback" not in output, output[-4000:]
    summary = result.stdout.split("== summary", 1)[-1]
    missing = [ratio for ratio in RATIOS if ratio not in summary]
    assert not missing, f"no {missing} in:\n{summary}"
