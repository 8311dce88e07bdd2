"""One run's reporting cost against the history kept: 0 to 50,000 runs.

"Reporting" is what every run pays after its checks: write its JSON, append its chain
entry (hashing its files) and bring the index up to date. Each history is a synthetic
chain of valid, linked entries (files on disk for the newest 100 runs only: older ones
are never read by a run) with the index state built once, as a long-lived reports root
has it. Printed as medians against the 0-run floor measured in the same process, with
index.html's size, the state's size and a full rebuild (`python -m tradeops.reports
index`, linear like `verify`) for reference.

Retention's check with nothing due (`chain.prune`, which every run with `[reports]
keep_days` pays after appending its entry) is timed in the same runs and printed the
same way, median and ratio against its own 0-run floor: it answers from the sidecar
`.retention-state.json` and the chain's end. "first check" is the one check that has no
sidecar yet (the first run after an upgrade, or after the sidecar is deleted): it reads
the whole chain once, as every check did before, and writes the sidecar.

    python benchmarks/reports.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tradeops.reports import chain, index

T0 = datetime(2025, 1, 1, tzinfo=UTC)
SIZES = (0, 10, 200, 1_000, 10_000, 50_000)
ON_DISK = 100  # the newest runs with real files
CHECKS = 40  # checks per run's JSON (pre-flight has 5; a full run of 30 strategies ~300)
NOTHING_DUE = 100_000  # keep_days: every synthetic run is younger than that


def summary(n: int) -> dict:
    checks = [
        {
            "check": f"check_{c % 8}",
            "subject": f"s{c}",
            "outcome": "failed" if (n + c) % 17 == 0 else "passed",
            "effective_severity": "P1",
            "summary": "finding",
            "layer": "strategy",
        }
        for c in range(CHECKS)
    ]
    return {
        "schema": 2,
        "platform": {"name": "http://127.0.0.1:8080", "scenario": None},
        "checks": checks,
        "verdict": "green",
    }


def facts(n: int, started: datetime) -> dict:
    return {
        "id": f"{n:08x}",
        "kind": "preflight",
        "started": chain.utc_text(started),
        "verdict": "green",
        "highest_severity": None,
        "counts": {"passed": CHECKS, "failed": 0, "error": 0, "skipped": 0},
        "platform": {"name": "http://127.0.0.1:8080", "scenario": None},
        "completeness": {"selected": CHECKS, "judged": CHECKS, "ran": CHECKS},
    }


def files_for(root: Path, n: int, started: datetime) -> list[Path]:
    day = root / started.strftime("%Y-%m-%d")
    day.mkdir(parents=True, exist_ok=True)
    stem = day / f"preflight-{started:%Y%m%dT%H%M%SZ}-{n:08x}"
    html, data, xml = (stem.with_suffix(s) for s in (".html", ".json", ".xml"))
    html.write_text("<html>" + "x" * 60_000 + "</html>")
    data.write_text(json.dumps(summary(n)))
    xml.write_text("<testsuites/>")
    return [html, data, xml]


def history(root: Path, size: int) -> None:
    """`size` linked add entries (files for the newest ON_DISK), then the index state."""
    previous, lines = chain.GENESIS, []
    for n in range(size):
        started = T0 + timedelta(minutes=15 * n)
        if n >= size - ON_DISK:
            paths = files_for(root, n, started)
            records = [
                {
                    "path": chain.relative(root, p),
                    "sha256": chain.file_sha256(p),
                    "bytes": p.stat().st_size,
                }
                for p in paths
            ]
        else:
            day = started.strftime("%Y-%m-%d")
            records = [
                {"path": f"{day}/r{n}.{s}", "sha256": "0" * 64, "bytes": 1}
                for s in ("html", "json", "xml")
            ]
        entry = {
            "v": chain.VERSION,
            "seq": n + 1,
            "action": "add",
            "at": chain.utc_text(started),
            "run": facts(n, started),
            "files": records,
            "prev": previous,
        }
        entry["hash"] = previous = chain.entry_hash(entry)
        lines.append(json.dumps(entry, sort_keys=True, separators=(",", ":")))
    root.mkdir(parents=True, exist_ok=True)
    (root / chain.CHAIN_NAME).write_text("".join(line + "\n" for line in lines))
    index.rebuild(root)


def one_run(root: Path, n: int) -> tuple[float, float]:
    """A run's reporting (its files, its chain entry, the index) and, apart, retention's
    check with nothing due, in the order a run does them. Seconds."""
    started = T0 + timedelta(minutes=15 * n)
    begin = time.perf_counter()
    paths = files_for(root, n, started)
    with chain.locked(root):
        run = facts(n, started)
        chain.append_run(root, paths, run, started)
        checking = time.perf_counter()
        assert chain.prune(root, keep_days=NOTHING_DUE, spare=run["id"]) is None
        checked = time.perf_counter()
        index.write_index(root)
    return time.perf_counter() - begin - (checked - checking), checked - checking


def first_check(root: Path) -> float:
    """Retention's check with no sidecar yet: one full read, which writes it. Seconds."""
    begin = time.perf_counter()
    with chain.locked(root):
        assert chain.prune(root, keep_days=NOTHING_DUE) is None
    return time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            root = Path(tmp) / f"h{size}"
            history(root, size)
            os.sync()  # the synthetic history on disk first: no run pays for flushing it
            first = first_check(root)
            costs, checks = zip(*(one_run(root, size + i) for i in range(args.repeat)), strict=True)
            begin = time.perf_counter()
            with chain.locked(root):
                index.rebuild(root)
            rebuild = time.perf_counter() - begin
            rows.append(
                (
                    size,
                    statistics.median(costs),
                    (root / "index.html").stat().st_size,
                    (root / index.STATE_NAME).stat().st_size,
                    rebuild,
                    statistics.median(checks),
                    first,
                )
            )
    floor, check_floor = rows[0][1], rows[0][5]
    print(
        f"one run's reporting (JSON + chain entry + index) and retention's check with "
        f"nothing due (chain.prune), medians of {args.repeat}"
    )
    print(
        f"{'kept runs':>10} {'per run':>9} {'x floor':>8} {'index.html':>11} "
        f"{'state':>9} {'full rebuild':>13} {'prune check':>12} {'x floor':>8} "
        f"{'first check':>12}"
    )
    for size, cost, page, state, rebuild, check, first in rows:
        print(
            f"{size:>10,} {cost * 1000:>7.1f}ms {cost / floor:>7.2f}x {page / 1024:>9.0f}kB "
            f"{state / 1024:>7.0f}kB {rebuild * 1000:>11.0f}ms {check * 1000:>10.2f}ms "
            f"{check / check_floor:>7.2f}x {first * 1000:>10.0f}ms"
        )


if __name__ == "__main__":
    main()
