"""How long pre-flight and the whole suite take, against a plain script doing the same reads.

Starts the default sandbox once (its start is not timed), then times, each best of N:
  - `pytest -m preflight` (wall, one process, as an operator runs it),
  - the whole suite with -n 0, -n 2 and -n auto (which sizes itself: see the plugin),
  - a plain Python script that makes the same HTTP calls and SQL queries with no pytest.
Prints each figure and the ratios. Usage: python benchmarks/preflight.py [--repeat 3] [--days 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PLAIN = """
import sys, time
from concurrent.futures import ThreadPoolExecutor
from tradeops.config import load_manifest
from tradeops.connectors.control_plane import ControlPlane
from tradeops.connectors.event_store import EventStore
from tradeops.connectors.oanda import OandaBroker

m = load_manifest(__import__("pathlib").Path(sys.argv[1]))
now = int(time.time() * 1000)
cp = ControlPlane(m.control_plane.url, m.control_plane.token, m.control_plane.timeout_s)
store = EventStore.from_config(m.event_store)

def account(pair):
    b, a = pair
    with OandaBroker(b.name, b.url, b.token, b.timeout_s) as client:
        client.summary(a); client.open_positions(a); client.pricing(a, ["EUR_USD"])

with ThreadPoolExecutor(12) as pool:
    jobs = [pool.submit(account, p) for p in m.accounts]
    jobs += [pool.submit(cp.health), pool.submit(cp.strategies)]
    [j.result() for j in jobs]
store.journal_mode(); store.schema(); store.newest_event(); store.ts_regressions(100000, 1000)
store.net_positions()
live = store.live_runs(now)
ids = [r.run_id for r in live]
cp.summary(); store.gaps(ids); store.stale_detections(run_ids=ids)
store.residual_runs(now); store.payload_problems(["RUN_STARTED"]); store.pending_gates()
store.unresolved_alerts()
"""


def timed(command: list[str], env: dict, repeat: int) -> float:
    """Best wall time of `repeat` runs; a failing run (exit not 0) is an error."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if done.returncode != 0:
            sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}")
        best = min(best, elapsed)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()

    from tradeops.sandbox.generator import StoreParams
    from tradeops.sandbox.platform import Sandbox

    started = time.perf_counter()
    with Sandbox("healthy", params=StoreParams(days=args.days)) as sandbox:
        print(f"sandbox start (days={args.days}): {time.perf_counter() - started:.2f} s")
        env = {**os.environ, **sandbox.environ}
        report = Path(tempfile.mkdtemp()) / "report.html"  # keep reports/ for real runs
        ops = [
            "--ops-config",
            str(sandbox.manifest_path),
            "-q",
            "-p",
            "no:randomly",
            "--html",
            str(report),
            "--self-contained-html",
        ]
        pytest = [sys.executable, "-m", "pytest"]
        figures = {
            "plain script (same calls, no pytest)": timed(
                [sys.executable, "-c", PLAIN, str(sandbox.manifest_path)], env, args.repeat
            ),
            "pytest -m preflight": timed(
                [*pytest, "checks", "-m", "preflight", *ops], env, args.repeat
            ),
            "whole suite, -n 0": timed([*pytest, "checks", "slo", *ops], env, args.repeat),
            "whole suite, -n 2": timed(
                [*pytest, "checks", "slo", "-n", "2", *ops], env, args.repeat
            ),
            "whole suite, -n auto": timed(
                [*pytest, "checks", "slo", "-n", "auto", *ops], env, args.repeat
            ),
        }
    plain = figures["plain script (same calls, no pytest)"]
    print(f"{'run':40} {'wall s':>8} {'x plain':>8}")
    for name, seconds in figures.items():
        print(f"{name:40} {seconds:8.2f} {seconds / plain:8.1f}")
    ratio = figures["whole suite, -n auto"] / figures["whole suite, -n 0"]
    print(f"whole suite -n auto / -n 0: {ratio:.2f}")


if __name__ == "__main__":
    main()
