"""How fast the sandbox's event store is built, how big it is, and how fast a cached start is.

    python benchmarks/generate.py                 # small, default, 3M
    python benchmarks/generate.py --sizes 10M     # the 10-million-event store (~1.5 GB, ~30 s)
    python benchmarks/generate.py --sizes default --keep /tmp/store   # keep the built files

Each size is built in its own process (so peak memory is per size), first without a cache,
then twice through a fresh cache: the second start is a cache hit (copy + live session).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from tradeops.sandbox.store.generator import StoreParams, build_platform_data, estimate_events

SIZES = {
    "small": StoreParams(days=7, strategies=9),
    "default": StoreParams(),
    "3M": StoreParams(days=30, strategies=50),
    "10M": StoreParams(days=60, strategies=80),
}
CACHE_HIT_UP_TO = 4_000_000  # larger stores skip the cache runs (they would copy GBs twice)


def measure(name: str, directory: Path) -> dict[str, object]:
    """Build one size; its figures."""
    params = SIZES[name]
    now_ms = int(time.time() * 1000)
    started = time.perf_counter()
    built = build_platform_data(directory / "nocache", params, frozenset(), now_ms, None)
    seconds = time.perf_counter() - started
    figures: dict[str, object] = {
        "size": name,
        "events": built.events,
        "seconds": round(seconds, 2),
        "events_per_s": round(built.events / seconds),
        "file_mb": round(built.store.stat().st_size / 1e6, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    if built.events <= CACHE_HIT_UP_TO:
        cache = directory / "cache"
        started = time.perf_counter()
        build_platform_data(directory / "miss", params, frozenset(), now_ms, cache)
        figures["cache_miss_start_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        build_platform_data(directory / "hit", params, frozenset(), now_ms, cache)
        figures["cache_hit_start_s"] = round(time.perf_counter() - started, 2)
    return figures


def main() -> None:
    """Run each size in a child process and print one line of figures per size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,default,3M", help=f"of {', '.join(SIZES)}")
    parser.add_argument("--keep", type=Path, help="build here and keep the files")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:  # the child: one size, figures as JSON on stdout
        print(json.dumps(measure(args.one, args.keep)))
        return
    names = [n.strip() for n in args.sizes.split(",") if n.strip()]
    for name in names:
        if name not in SIZES:
            parser.error(f"unknown size {name!r}; choose from {', '.join(SIZES)}")
    print(f"{'size':>8} {'events':>10} {'build s':>8} {'events/s':>9} {'MB':>7} "
          f"{'RSS MB':>7} {'miss s':>7} {'hit s':>6}   params")  # fmt: skip
    for name in names:
        with tempfile.TemporaryDirectory(prefix="tradeops-gen-") as tmp:
            where = args.keep / name if args.keep else Path(tmp)
            where.mkdir(parents=True, exist_ok=True)
            command = [sys.executable, __file__, "--one", name, "--keep", str(where)]
            out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        f = json.loads(out.strip().splitlines()[-1])
        params = asdict(SIZES[name])
        print(
            f"{name:>8} {f['events']:>10} {f['seconds']:>8} {f['events_per_s']:>9} "
            f"{f['file_mb']:>7} {f['peak_rss_mb']:>7} {f.get('cache_miss_start_s', '-'):>7} "
            f"{f.get('cache_hit_start_s', '-'):>6}   "
            f"days={params['days']} strategies={params['strategies']} "
            f"hb={params['heartbeat_interval_s']}s (estimated {estimate_events(SIZES[name])})",
            flush=True,
        )


if __name__ == "__main__":
    main()
