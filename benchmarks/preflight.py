"""How long pre-flight and the whole suite take, against a plain script doing the same reads.

Starts the default sandbox once (its start is not timed), then times, each best of N:
  - `pytest -m preflight` (wall, one process, as an operator runs it),
  - the whole suite with -n 0, -n 2 and -n auto (which sizes itself: see the plugin),
  - a plain Python script that makes the same HTTP calls and SQL queries with no pytest.
  - pytest's own floor: five trivial tests, the same installed plugins and addopts, the
    same --html report, in a directory of their own (no tradeops plugin, no conftest).
Runs are interleaved and each figure is the median of N (the cores are shared), with .pyc
files kept. Prints each figure, its ratio to the floor and to the plain script.
Target: `pytest -m preflight` at most 1.5x the floor, 1.3x as the goal.
Usage: python benchmarks/preflight.py [--repeat 5] [--days 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _floor import REPO, floor_command, floor_dir

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
store.unended_runs(now); store.payload_problems(["RUN_STARTED"]); store.pending_gates()
store.unresolved_alerts()
"""


def once(command: list[str], env: dict, cwd: Path = REPO) -> float:
    """Wall time of one run; exit 0, 10 or 11 (a verdict) is a timing, anything else an error."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 10, 11):
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument(
        "--preflight-only", action="store_true", help="time the floor, plain script, pre-flight"
    )
    args = parser.parse_args()

    from tradeops.sandbox import StoreParams
    from tradeops.sandbox.platform import Sandbox

    started = time.perf_counter()
    with Sandbox("healthy", params=StoreParams(days=args.days)) as sandbox:
        print(f"sandbox start (days={args.days}): {time.perf_counter() - started:.2f} s")
        env = {**os.environ, **sandbox.environ}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # timings keep .pyc files
        # The runs keep their paper trail in a directory of their own: reports/ stays for
        # real runs, and what is already kept there (its index's trend) does not weigh on
        # the figures. The trail grows with the repeats, as a cron host's does.
        scratch = Path(tempfile.mkdtemp())
        report = scratch / "report.html"
        ops = [
            "--ops-config",
            str(sandbox.manifest_path),
            "--ops-reports-dir",
            str(scratch / "reports"),
            "-q",
            "-p",
            "no:randomly",
            "--html",
            str(report),
        ]
        pytest = [sys.executable, "-m", "pytest"]
        floor = floor_dir()
        runs: dict[str, tuple[list[str], Path]] = {
            "pytest floor (5 trivial tests)": (floor_command(report), floor),
            "plain script (same calls, no pytest)": (
                [sys.executable, "-c", PLAIN, str(sandbox.manifest_path)],
                REPO,
            ),
            "pytest -m preflight": ([*pytest, "checks", "-m", "preflight", *ops], REPO),
            "whole suite, -n 0": ([*pytest, "checks", "slo", *ops], REPO),
            "whole suite, -n 2": ([*pytest, "checks", "slo", "-n", "2", *ops], REPO),
            "whole suite, -n auto": ([*pytest, "checks", "slo", "-n", "auto", *ops], REPO),
        }
        if args.preflight_only:
            runs = {name: run for name, run in runs.items() if "whole suite" not in name}
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeat):  # interleaved: a busy moment hurts every figure alike
            for name, (command, cwd) in runs.items():
                times[name].append(once(command, env, cwd))
    figures = {name: statistics.median(values) for name, values in times.items()}
    floor_s = figures["pytest floor (5 trivial tests)"]
    plain = figures["plain script (same calls, no pytest)"]
    print(f"{'run':40} {'wall s':>8} {'x floor':>8} {'x plain':>8}   (median of {args.repeat})")
    for name, seconds in figures.items():
        print(f"{name:40} {seconds:8.2f} {seconds / floor_s:8.2f} {seconds / plain:8.1f}")
    preflight = figures["pytest -m preflight"] / floor_s
    print(f"pre-flight / pytest floor: {preflight:.2f}x (target at most 1.5x, goal 1.3x)")
    if not args.preflight_only:
        ratio = figures["whole suite, -n auto"] / figures["whole suite, -n 0"]
        print(f"whole suite -n auto / -n 0: {ratio:.2f}")


if __name__ == "__main__":
    main()
