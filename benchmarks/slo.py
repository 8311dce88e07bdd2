"""How long evaluating all eight SLOs takes, and its peak memory, on stores of 1M-10M events.

    python benchmarks/slo.py                       # 1M, 3M, 10M (and 10M-long), built once
    python benchmarks/slo.py --sizes 1M,3M --repeat 5
    python benchmarks/slo.py --keep /tmp/slo-bench  # keep (and reuse) the built stores

Each store is built with the sandbox generator (healthy), the broker simulator is started
over its ledger (trade persistence reads the fills over HTTP, as the gate does) and a
probe history of 30 days (one probe every 5 min) is written. Then a fresh process per
repeat loads the manifest and times `fetch_fills` + `evaluate` as of the build's "now",
and reports its own peak RSS. The "-long" size keeps the default 30 strategies and grows
the history instead: its SLO windows hold what the 1M store's do, so its time shows what
the store's total size costs (nothing, if every SLI reads only its indexed window).
Beside each store SLI's time the child times its floor: the cheapest SQL the contract's
indexes allow that reads the same rows (one events_type_ts range of the SLI's event
types, grouped as the SLI needs), on the same store in the same process.
Targets at 10M: the SLIs within 1.25x of their floors in total, under 100 MB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import selectors
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from tradeops.sandbox.scenarios import BROKERS
from tradeops.sandbox.store.generator import StoreParams, build_platform_data, estimate_events
from tradeops.slo.history import ProbeHistory

SIZES = {
    "1M": StoreParams(days=30, strategies=17),
    "3M": StoreParams(days=30, strategies=50),
    "10M": StoreParams(days=60, strategies=80),
    "10M-long": StoreParams(days=165, strategies=30),
}
TOKEN_ENV = "TRADEOPS_BENCH_BROKER_TOKEN"
START_TIMEOUT_S = 60.0
CHILD_TIMEOUT_S = 300.0


def build(name: str, where: Path) -> dict:
    """Build one size (or reuse a kept build); its figures and paths."""
    meta_path = where / "bench.json"
    if meta_path.exists():
        return json.loads(meta_path.read_text())
    now_ms = int(time.time() * 1000)
    started = time.perf_counter()
    built = build_platform_data(where, SIZES[name], frozenset(), now_ms, None)
    meta = {
        "now_ms": now_ms,
        "events": built.events,
        "build_s": round(time.perf_counter() - started, 1),
        "store": str(built.store),
        "ledger": str(built.ledger),
    }
    history = where / "probe-history.sqlite"
    _write_history(history, now_ms)
    meta["history"] = str(history)
    meta_path.write_text(json.dumps(meta))
    return meta


def _write_history(path: Path, now_ms: int) -> None:
    """30 days of probes, one every 5 minutes, one in 500 failed (not timed)."""
    history = ProbeHistory(path)
    history.record(now_ms - 31 * 86_400_000, True, 1.0)  # creates the schema
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO probes (ts, ok, latency_ms, error) VALUES (?, ?, ?, ?)",
            [(now_ms - i * 300_000, i % 500 != 7, 3.0, None) for i in range(8640)],
        )
    conn.close()


def start_broker(meta: dict, where: Path, token: str):
    """The broker simulator over the build's ledger; (process, url)."""
    config = where / "bench-sandbox.json"
    block = {"hang": False, "rate_limited_accounts": [], "retry_after_s": 30}
    config.write_text(json.dumps({"ledger": meta["ledger"], "broker": block}))
    accounts = [a for group in BROKERS.values() for a in group]
    env = {**os.environ, "TRADEOPS_SANDBOX_BROKER_TOKENS": json.dumps({token: accounts})}
    process = subprocess.Popen(
        [sys.executable, "-m", "tradeops.sandbox.oanda.broker", "--config", str(config)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=START_TIMEOUT_S)
    line = process.stdout.readline().strip() if ready else ""
    if not line.startswith("PORT "):
        process.kill()
        raise SystemExit(f"the broker simulator did not start: {line!r}")
    return process, f"http://127.0.0.1:{line.split()[1]}"


def write_manifest(meta: dict, where: Path, url: str) -> Path:
    """An ops.toml for the build: its store, the simulator, its probe history."""
    accounts = [a for group in BROKERS.values() for a in group]
    path = where / "bench-ops.toml"
    path.write_text(
        f"""[control_plane]
url = "http://127.0.0.1:9"

[event_store]
path = {json.dumps(meta["store"])}

[[brokers]]
name = "bench"
url = "{url}"
token_env = "{TOKEN_ENV}"
accounts = {json.dumps(accounts)}
timeout_s = 30

[reports]
history_db = {json.dumps(meta["history"])}
"""
    )
    return path


# The floor of each store SLI: its event types' events_type_ts range over its window,
# reading the columns it needs (heartbeat delivery: the HEARTBEAT range grouped by run).
FLOORS = {
    "trade_persistence": "SELECT COUNT(payload) FROM events "
    "WHERE type = 'ORDER_FILLED' AND ts > :start - 86400000 AND ts <= :now",
    "broker_reconnection": "SELECT COUNT(account_id) FROM events "
    "WHERE type IN ('BROKER_DISCONNECTED', 'BROKER_RECONNECTED') AND ts > :start AND ts <= :now",
    "run_success": "SELECT COUNT(payload) FROM events "
    "WHERE type = 'RUN_ENDED' AND ts > :start AND ts <= :now",
    "reconciliation_divergence": "SELECT COUNT(payload) FROM events "
    "WHERE type = 'RECONCILIATION' AND ts > :start AND ts <= :now",
    "heartbeat_delivery": "SELECT COUNT(*) FROM (SELECT run_id, COUNT(*) FROM events "
    "WHERE type = 'HEARTBEAT' AND ts > :start AND ts <= :now GROUP BY run_id)",
    "stale_detection_latency": "SELECT COUNT(payload) FROM events "
    "WHERE type = 'STALE_DETECTED' AND ts > :start AND ts <= :now",
    "promote_gate_latency": "SELECT COUNT(payload) FROM events "
    "WHERE type IN ('PROMOTE_REQUESTED', 'PROMOTE_DECIDED') AND ts > :start AND ts <= :now",
}
# Printed beside the heartbeat row, not in the total: the same grouped range reading `ts`,
# which the SLI needs per heartbeat (which alert windows it falls in, whether it lies in its
# run's span). Any aggregate argument costs the sort about a third more than COUNT(*).
HEARTBEAT_TS_FLOOR = (
    "SELECT COUNT(*) FROM (SELECT run_id, COUNT(ts) FROM events "
    "WHERE type = 'HEARTBEAT' AND ts > :start AND ts <= :now GROUP BY run_id)"
)


def per_sli(manifest, store, now_ms: int, fills) -> dict:
    """name -> (the suite's measure() time, its floor query's time), each best of 3."""
    from tradeops.slo._sql import Window
    from tradeops.slo.objectives import measure

    figures = {}
    for name, floor in FLOORS.items():
        config = manifest.slo[name]
        params = Window(now_ms, config.window_days).params()

        def suite(name=name, config=config):
            measure(name, store, config, now_ms, fills=fills,
                    stale_after_heartbeats=manifest.thresholds.stale_after_heartbeats)  # fmt: skip

        figures[name] = (_best(suite), _best(lambda q=floor, p=params: store._rows(q, p)))
        if name == "heartbeat_delivery":
            ts_floor = partial(store._rows, HEARTBEAT_TS_FLOOR, params)
            figures["heartbeat_ts_floor"] = _best(ts_floor)
    return figures


def _best(call, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    return best


def child(manifest_path: str, now_ms: int) -> dict:
    """One timed evaluation in this (fresh) process: figures as a dict."""
    from tradeops.config import load_manifest
    from tradeops.connectors.event_store import EventStore
    from tradeops.connectors.oanda import OandaBroker
    from tradeops.slo.evaluate import evaluate, fetch_fills
    from tradeops.slo.history import ProbeHistory, history_path

    manifest = load_manifest(Path(manifest_path))
    store = EventStore.from_config(manifest.event_store)
    history = ProbeHistory(history_path(manifest, Path.cwd()))
    brokers = {b.name: OandaBroker(b.name, b.url, b.token, b.timeout_s) for b in manifest.brokers}
    started = time.perf_counter()
    fills = fetch_fills(brokers, manifest, now_ms)
    fetched = time.perf_counter()
    results = evaluate(manifest, now_ms, store=store, history=history, fills=fills)
    done = time.perf_counter()
    window = store._rows(
        "SELECT COUNT(*) FROM events WHERE ts > ? AND ts <= ?", [now_ms - 7 * 86_400_000, now_ms]
    )[0][0]
    assert not fills.errors, fills.errors
    assert all(r.valid for r in results), [r.errors for r in results if r.errors]
    slis = per_sli(manifest, store, now_ms, fills)
    return {
        "slis": slis,
        "total_s": done - started,
        "fills_s": fetched - started,
        "store_s": done - fetched,
        "peak_rss_mb": peak_rss_mb(),
        "window_7d_events": window,
        "verdicts": {r.name: r.verdict for r in results},
    }


def peak_rss_mb() -> float:
    """This process's peak RSS in MB: VmHWM, which (unlike ru_maxrss) execve resets, so the
    parent's high-water mark before the fork does not leak into the child's figure."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_size(name: str, where: Path, repeat: int) -> dict:
    """Build (or reuse), start the simulator, time `repeat` fresh evaluations."""
    meta = build(name, where)
    token = secrets.token_urlsafe(18)
    process, url = start_broker(meta, where, token)
    try:
        manifest = write_manifest(meta, where, url)
        env = {**os.environ, TOKEN_ENV: token}
        runs = []
        for _ in range(repeat):
            command = [sys.executable, __file__, "--child", str(manifest), str(meta["now_ms"])]
            out = subprocess.run(
                command, env=env, check=True, capture_output=True, text=True,
                timeout=CHILD_TIMEOUT_S,
            ).stdout  # fmt: skip
            runs.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        process.terminate()
        process.wait(timeout=10)
    return {"meta": meta, "runs": runs}


def main() -> None:
    """Print one line per size: store, window, median times, peak RSS."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1M,3M,10M,10M-long", help=f"of {', '.join(SIZES)}")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build here, keep the stores, reuse them")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    names = [n.strip() for n in args.sizes.split(",") if n.strip()]
    for name in names:
        if name not in SIZES:
            parser.error(f"unknown size {name!r}; choose from {', '.join(SIZES)}")
    print(f"{'size':>9} {'events':>10} {'7-d window':>10} {'total s':>8} {'store s':>8} "
          f"{'fills s':>8} {'us/window ev':>12} {'peak RSS MB':>11}   params")  # fmt: skip
    for name in names:
        with tempfile.TemporaryDirectory(prefix="tradeops-slo-bench-") as tmp:
            where = args.keep / name if args.keep else Path(tmp)
            where.mkdir(parents=True, exist_ok=True)
            figures = run_size(name, where, args.repeat)
        runs, meta = figures["runs"], figures["meta"]
        total = statistics.median(r["total_s"] for r in runs)
        store_s = statistics.median(r["store_s"] for r in runs)
        fills_s = statistics.median(r["fills_s"] for r in runs)
        rss = max(r["peak_rss_mb"] for r in runs)
        window = runs[0]["window_7d_events"]
        p = SIZES[name]
        print(
            f"{name:>9} {meta['events']:>10} {window:>10} {total:>8.2f} {store_s:>8.2f} "
            f"{fills_s:>8.2f} {store_s / window * 1e6:>12.2f} {rss:>11.0f}   "
            f"days={p.days} strategies={p.strategies} (built in {meta['build_s']} s, "
            f"estimated {estimate_events(p)}; median of {len(runs)})",
            flush=True,
        )
        print_slis(runs)


def print_slis(runs: list[dict]) -> None:
    """Per SLI: the suite's time beside its floor's (medians over the repeats), and totals."""
    names = [n for n in runs[0]["slis"] if n != "heartbeat_ts_floor"]
    print(f"    {'SLI':28} {'suite ms':>9} {'floor ms':>9} {'x floor':>8}")
    total_suite = total_floor = 0.0
    for name in names:
        suite = statistics.median(r["slis"][name][0] for r in runs)
        floor = statistics.median(r["slis"][name][1] for r in runs)
        total_suite += suite
        total_floor += floor
        print(f"    {name:28} {suite * 1e3:9.1f} {floor * 1e3:9.1f} {suite / floor:8.2f}")
    ratio = total_suite / total_floor
    print(f"    {'all store SLIs':28} {total_suite * 1e3:9.1f} {total_floor * 1e3:9.1f} "
          f"{ratio:8.2f}   <- target 1.25x")  # fmt: skip
    suite = statistics.median(r["slis"]["heartbeat_delivery"][0] for r in runs)
    floor = statistics.median(r["slis"]["heartbeat_ts_floor"] for r in runs)
    print(f"    {'heartbeat, floor reads ts':28} {suite * 1e3:9.1f} {floor * 1e3:9.1f} "
          f"{suite / floor:8.2f}   (not in the total)")  # fmt: skip


if __name__ == "__main__":
    main()
