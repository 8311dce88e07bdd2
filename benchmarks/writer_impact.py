"""Does the suite harm the platform's writer? Measured on a running sandbox store.

A writer process appends one event every 10 ms (100 per second), one transaction each
(BEGIN IMMEDIATE, INSERT, COMMIT, busy timeout 5 s as a platform would set), and runs a
passive checkpoint every second. Three phases of the same length against the same store:
  - alone (the floor),
  - while the whole suite (`pytest checks slo`) runs again and again with -n 0,
  - the same with -n 2.
Each phase prints the writer's commit p50/p99/max (and as ratios against the floor), its
errors (SQLITE_BUSY must be 0), its checkpoints (complete when every WAL frame was
copied back), the WAL size, how many suite runs it overlapped, and checks that the store
holds exactly the events the writer wrote, in order.

Usage: python benchmarks/writer_impact.py [--seconds 20] [--days 8]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KIND = "BENCH_WRITE"  # an event type the suite does not know: ignored, as the contract says

WRITER = r"""
import json, sqlite3, sys, time
path, kind, phase, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
latencies, errors, checkpoints, written = [], [], [], 0
start = time.perf_counter()
next_write = start
last_checkpoint = start
print("READY", flush=True)
while time.perf_counter() - start < seconds:
    now = time.perf_counter()
    if now < next_write:
        time.sleep(next_write - now)
    next_write += 0.01
    t0 = time.perf_counter()
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO events (ts, type, payload) VALUES (?, ?, ?)",
            (int(time.time() * 1000), kind, json.dumps({"phase": phase, "n": written})),
        )
        conn.execute("COMMIT")
        written += 1
        latencies.append((time.perf_counter() - t0) * 1000)
    except sqlite3.Error as exc:
        errors.append(f"{getattr(exc, 'sqlite_errorname', '')} {exc}")
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass
    if time.perf_counter() - last_checkpoint >= 1.0:
        last_checkpoint = time.perf_counter()
        try:
            checkpoints.append(list(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()))
        except sqlite3.Error as exc:
            errors.append(f"checkpoint: {exc}")
final = list(conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone())
conn.close()
print(json.dumps({"latencies": latencies, "errors": errors, "checkpoints": checkpoints,
                  "written": written, "final": final}), flush=True)
"""


def start_sandbox(directory: Path, days: int) -> tuple[subprocess.Popen, Path, dict[str, str]]:
    command = [sys.executable, "-m", "tradeops.sandbox", "--dir", str(directory)]
    command += ["--days", str(days)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO
    )
    assert process.stdout is not None
    manifest = Path(process.stdout.readline().strip())
    if not manifest.name.endswith("ops.toml"):
        process.terminate()
        raise SystemExit("the sandbox did not start")
    env = dict(os.environ)
    for line in (directory / "sandbox.env").read_text().splitlines():
        key, _, value = line.removeprefix("export ").partition("=")
        env[key] = value
    return process, manifest, env


def phase(store: Path, name: str, seconds: float, suite: list[str] | None, env: dict) -> dict:
    """One phase: the writer for `seconds`, with the suite looping beside it if given."""
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(store), KIND, name, str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "READY"
    runs, exits = 0, set()
    while suite is not None and writer.poll() is None:
        done = subprocess.run(suite, env=env, cwd=REPO, capture_output=True, timeout=300)
        runs += 1
        exits.add(done.returncode)
    result = json.loads(writer.stdout.read())
    writer.wait()
    writer.stdout.close()
    result.update(name=name, suite_runs=runs, suite_exits=sorted(exits))
    result["wal_mb"] = (
        os.stat(f"{store}-wal").st_size / 1e6 if os.path.exists(f"{store}-wal") else 0
    )
    return result


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def content_exact(store: Path, phases: list[dict]) -> str:
    """'exact' when the store holds each phase's n = 0..written-1, in seq order, and no more."""
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    rows = conn.execute(f"SELECT payload FROM events WHERE type = '{KIND}' ORDER BY seq").fetchall()
    conn.close()
    seen = [json.loads(p) for (p,) in rows]
    wanted = [{"phase": r["name"], "n": n} for r in phases for n in range(r["written"])]
    return "exact" if seen == wanted else f"DIFFERS: {len(seen)} rows, wanted {len(wanted)}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase (default 20)")
    parser.add_argument("--days", type=int, default=8, help="days of sandbox history")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tradeops-writer-") as tmp:
        sandbox, manifest, env = start_sandbox(Path(tmp), args.days)
        try:
            store = Path(json.loads((Path(tmp) / "sandbox.json").read_text())["store"])
            pytest = [sys.executable, "-m", "pytest", "checks", "slo", f"--ops-config={manifest}"]
            pytest += ["-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
            results = [
                phase(store, "alone", args.seconds, None, env),
                phase(store, "suite -n 0", args.seconds, [*pytest, "-n", "0"], env),
                phase(store, "suite -n 2", args.seconds, [*pytest, "-n", "2"], env),
            ]
            exact = content_exact(store, results)
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=15)
    floor = results[0]
    base = {q: pct(floor["latencies"], q) for q in (0.5, 0.99)}
    base[1.0] = max(floor["latencies"])
    print(f"writer: 100 events/s, one transaction each, {args.seconds:g} s per phase")
    for r in results:
        lat = r["latencies"]
        p50, p99, top = pct(lat, 0.5), pct(lat, 0.99), max(lat)
        busy = sum("BUSY" in e or "locked" in e for e in r["errors"])
        # A passive checkpoint is complete when it copied back every frame of the WAL.
        complete = sum(1 for flag, log, done in r["checkpoints"] if flag == 0 and log == done)
        last = r["final"]
        final = "complete" if last[1] == last[2] else f"{last[2]}/{last[1]} frames"
        print(
            f"{r['name']:>11}: {r['written']} commits  "
            f"p50 {p50:.2f} ms ({p50 / base[0.5]:.2f}x)  "
            f"p99 {p99:.2f} ms ({p99 / base[0.99]:.2f}x)  "
            f"max {top:.1f} ms ({top / base[1.0]:.2f}x)  errors {len(r['errors'])} "
            f"(SQLITE_BUSY {busy})  checkpoints complete {complete}/{len(r['checkpoints'])}, "
            f"after the phase {final}  WAL {r['wal_mb']:.1f} MB  "
            f"suite runs {r['suite_runs']} (exit {r['suite_exits'] or '-'})"
        )
    print(f"store content: {exact}")
    failed = exact != "exact" or any(r["errors"] for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
