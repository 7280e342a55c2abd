"""`make demo`: the whole story on the embedded default, step by step, with no services."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def step(title: str, *args: str) -> None:
    print(f"\n=== {title}\n$ wavecast {' '.join(args)}", flush=True)
    result = subprocess.run([sys.executable, "-m", "campaign", *args], check=False)
    if result.returncode != 0:
        sys.exit(result.returncode)


def main(example: str) -> None:
    directory = Path(example)
    step("Validate the campaign files", "validate", "--strict", str(directory))
    step("The plan", "plan", str(directory))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "examples/smartnation")
