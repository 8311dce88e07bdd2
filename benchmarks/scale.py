"""How the full suite grows with the platform: wall time and peak memory per strategy count.

    python benchmarks/scale.py                          # 30, 150, 300, 600 strategies
    python benchmarks/scale.py --sizes 30,300 --repeat 5

Per size, the healthy sandbox is started once (not timed; its store is generated once per
day and cached in ~/.cache/tradeops, which takes minutes the first time at 600), then the
whole suite (`pytest checks slo --ops-config SANDBOX/ops.toml`) is run `repeat` times at
-n 0, -n 2 and -n auto, each run a fresh process, interleaved with two floors of pytest's
own (benchmarks/_floor.py): five trivial tests, and as many trivial tests as the suite has
checks at that size (pytest and pytest-html's cost per item). Prints the median wall
time, its ratio to both floors, the peak RSS of the largest process (GNU time's %M:
pytest, or its biggest xdist worker), the cost per strategy, and whether -n auto was at
most the better of -n 0 and -n 2. Medians, because the machine's cores are shared: one
run alone says little.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _floor import REPO, floor_command, floor_dir

MODES = ("0", "2", "auto")
RUN_TIMEOUT_S = 900


def one_run(command: list[str], env: dict, cwd: Path = REPO) -> tuple[float, float]:
    """(wall s, peak RSS MB) of one whole-process run; exit 0, 10 or 11 are verdicts."""
    timer = shutil.which("time") or "/usr/bin/time"
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        started = time.perf_counter()
        done = subprocess.run(
            [timer, "-f", "%M", "-o", rss.name, *command],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
        )  # fmt: skip
        wall = time.perf_counter() - started
        if done.returncode not in (0, 10, 11):
            sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}")
        lines = [line for line in Path(rss.name).read_text().splitlines() if line.strip()]
    return wall, int(lines[-1]) / 1024


def measure_size(strategies: int, repeat: int) -> dict[str, tuple[float, float]]:
    """mode -> (median wall s, max peak RSS MB) for one strategy count."""
    from tradeops.sandbox import Sandbox, StoreParams

    started = time.perf_counter()
    with Sandbox("healthy", params=StoreParams(strategies=strategies)) as sandbox:
        print(f"  sandbox of {strategies} strategies up in {time.perf_counter() - started:.1f} s",
              flush=True)  # fmt: skip
        env = {**os.environ, **sandbox.environ}
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # .pyc kept, as operators run it
        scratch = Path(tempfile.mkdtemp())  # the runs' own paper trail: reports/ is for real runs
        report = scratch / "report.html"
        base = [sys.executable, "-m", "pytest", "checks", "slo", "-q", "-p", "no:randomly",
                "--ops-config", str(sandbox.manifest_path), "--html", str(report),
                "--ops-reports-dir", str(scratch / "reports")]  # fmt: skip
        floor = floor_dir()
        figures: dict[str, list[tuple[float, float]]] = {m: [] for m in (*MODES, "floor", "items")}
        one_run([*base, "-n", "0"], env)  # not timed: warms the caches, counts the checks
        items = floor_dir(len(json.loads(report.with_suffix(".json").read_text())["checks"]))
        for _ in range(repeat):  # interleaved, so a busy minute hurts every mode alike
            figures["floor"].append(one_run(floor_command(report), env, floor))
            figures["items"].append(one_run(floor_command(report), env, items))
            for mode in MODES:
                figures[mode].append(one_run([*base, "-n", mode], env))
    return {
        mode: (statistics.median(w for w, _ in runs), max(m for _, m in runs))
        for mode, runs in figures.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,150,300,600")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = {}
    for n in sizes:
        results[n] = measure_size(n, args.repeat)
        print(f"  {n}: " + ", ".join(f"{m} {w:.2f} s" for m, (w, _) in results[n].items()),
              flush=True)  # fmt: skip
    print(f"\nfull suite (checks + slo), median of {args.repeat}, healthy sandbox")
    print("x floor: against pytest's own floor (5 trivial tests); x items: against pytest")
    print("running as many trivial tests as the suite has checks; both timed beside it")
    print(f"{'strategies':>10} {'mode':>6} {'wall s':>8} {'x floor':>8} {'x items':>8} "
          f"{'ms/strategy':>12} {'peak MB':>8}")  # fmt: skip
    for n, by_mode in results.items():
        floor_s, items_s = by_mode["floor"][0], by_mode["items"][0]
        for mode in ("floor", "items", *MODES):
            wall, rss = by_mode[mode]
            label = mode if mode in ("floor", "items") else "-n " + mode
            print(f"{n:>10} {label:>6} {wall:8.2f} {wall / floor_s:8.2f} {wall / items_s:8.2f} "
                  f"{wall / n * 1e3:12.1f} {rss:8.0f}")  # fmt: skip
        best = min(by_mode["0"][0], by_mode["2"][0])
        auto = by_mode["auto"][0]
        verdict = "ok" if auto <= best * 1.05 else "SLOWER"
        print(f"{'':>10} -n auto / best of (-n 0, -n 2): {auto / best:.2f} ({verdict}, 5% noise)")
    # Marginal cost: what each added strategy costs between two sizes (the fixed start-up
    # of pytest and the probe cancels out), at -n 0.
    marginal = [
        ((results[b]["0"][0] - results[a]["0"][0]) / (b - a), a, b)
        for a, b in itertools.pairwise(sizes)
    ]
    for cost, a, b in marginal:
        print(f"cost per strategy at -n 0, {a} -> {b}: {cost * 1e3:.1f} ms")
    if len(marginal) > 1:
        costs = [c for c, _, _ in marginal]
        spread = max(costs) / min(costs) - 1
        print(f"cost per strategy spread: {spread:.0%} (target within 20%)")
    if 300 in results:
        print(f"300 strategies at -n 0: {results[300]['0'][0]:.2f} s (target under 4 s)")


if __name__ == "__main__":
    main()
