"""What the report's pictures cost a run.

1. The budget-over-the-window series (tradeops.slo.series): POINTS evaluations of each
   SLI against one evaluation as of now, on a real store (default: the largest sandbox
   store in ~/.cache/tradeops), printed as a ratio to that one evaluation.
2. The report top with every picture (tradeops.reports._html.summary_block) for a run of
   30, 150 and 300 strategies, against the same document with no pictures.

Pre-flight evaluates no SLO: it pays only (2), with its handful of checks.

    python benchmarks/report_charts.py [--store PATH] [--points 12]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reports import verdict_docs
from tradeops.config import SLO_DEFAULTS
from tradeops.connectors.event_store import EventStore
from tradeops.reports import _html, pictures
from tradeops.slo.objectives import measure
from tradeops.slo.series import MAX_SECONDS, SKIPPED, budget_history


def median(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        begin = time.perf_counter()
        fn()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def series_cost(store_path: Path, points: int) -> None:
    slos = {n: c for n, c in SLO_DEFAULTS.items() if n not in SKIPPED}
    slos.pop("control_plane_availability", None)
    manifest = SimpleNamespace(slo=slos, thresholds=SimpleNamespace(stale_after_heartbeats=3.0))
    with EventStore(store_path) as store:
        now_ms = (
            store.last_event_ts() if hasattr(store, "last_event_ts") else int(time.time() * 1e3)
        )

        def once() -> None:
            for name, config in slos.items():
                measure(name, store, config, now_ms)

        one = median(once, 3)
        many = median(
            lambda: budget_history(
                manifest, now_ms, store=store, history=None, points=points, max_seconds=1e9
            ),
            3,
        )
        bounded = median(
            lambda: budget_history(manifest, now_ms, store=store, history=None, points=points), 3
        )
        drawn = budget_history(manifest, now_ms, store=store, history=None, points=points)
    size = store_path.stat().st_size / 2**20
    print(f"SLO series on {store_path} ({size:.0f} MB), {len(slos)} store SLIs")
    print(f"  one evaluation as of now: {one * 1000:8.1f} ms")
    print(f"  {points} points per SLI:       {many * 1000:8.1f} ms  ({many / one:.1f}x one)")
    counts = ", ".join(f"{n} {len(s)}" for n, s in drawn.items())
    print(f"  bounded (default {MAX_SECONDS:g} s): {bounded * 1000:8.1f} ms  points: {counts}")


def doc_for(strategies: int) -> dict:
    verdict_docs.STRATEGIES[:] = [f"s{n}" for n in range(1, strategies + 1)]
    return verdict_docs.p2_only()


def render_cost() -> None:
    root, here = Path("/srv"), Path("/srv/reports/x")
    print("report top (verdict, failures, pictures) per run")
    print(f"  {'strategies':>10} {'with pictures':>14} {'without':>9} {'pictures':>9} {'bytes':>8}")
    for n in (30, 150, 300):
        doc = doc_for(n)
        bare = copy.deepcopy(doc)
        bare["slo"], bare["checks"] = [], []
        full = median(lambda d=doc: _html.summary_block(d, root, here))
        none = median(lambda d=bare: _html.summary_block(d, root, here))
        size = len(pictures.pictures(doc))
        print(
            f"  {n:>10} {full * 1000:>12.1f}ms {none * 1000:>7.1f}ms "
            f"{(full - none) * 1000:>7.1f}ms {size:>8,}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    stores = sorted(
        Path.home().glob(".cache/tradeops/*/events.sqlite"), key=lambda p: p.stat().st_size
    )
    parser.add_argument("--store", type=Path, default=stores[-1] if stores else None)
    parser.add_argument("--points", type=int, default=12)
    args = parser.parse_args()
    if args.store is not None:
        series_cost(args.store, args.points)
    render_cost()


if __name__ == "__main__":
    main()
