"""What validating the manifest costs at start-up: our rules against the libraries.

Each candidate is imported in a fresh `python -X importtime` after pytest (which a run
has loaded anyway), and the import time it adds is summed from the report; median of
seven. The floor is our own rules module (`tradeops._config_rules`), measured in the
same run, so the ratios hold on any machine. A library not installed is skipped
(`pip install pydantic msgspec cattrs` in a scratch venv to compare; none is a
dependency). Run with .pyc kept: `unset PYTHONDONTWRITEBYTECODE`.

    python benchmarks/manifest_import.py
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys

CANDIDATES = {
    "tradeops._config_rules (our rules)": "import tradeops._config_rules",
    "tradeops.config (whole manifest + tomllib)": "import tradeops.config",
    "pydantic (BaseModel, Field)": "from pydantic import BaseModel, Field",
    "msgspec": "import msgspec",
    "attrs + cattrs": "import attrs, cattrs",
}
RUNS = 7
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+\d+ \|(\s*)(\S+)$")


def added_ms(statement: str) -> float | None:
    """The import time (ms) a statement adds after `import pytest`, or None if it fails."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    samples = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import pytest\n{statement}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        if done.returncode:
            return None
        lines = done.stderr.splitlines()
        after = max(i for i, line in enumerate(lines) if line.endswith("| pytest"))
        self_us = [int(m.group(1)) for line in lines[after + 1 :] if (m := _LINE.match(line))]
        samples.append(sum(self_us) / 1000)
    return statistics.median(samples)


def main() -> int:
    results = {label: added_ms(statement) for label, statement in CANDIDATES.items()}
    floor = results["tradeops._config_rules (our rules)"] or 1e-9
    for label, ms in results.items():
        shown = "not installed" if ms is None else f"{ms:7.1f} ms  x{ms / floor:6.1f}"
        print(f"{label:44s} {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
