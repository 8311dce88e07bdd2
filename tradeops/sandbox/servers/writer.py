"""The sandbox platform's heartbeat writer: keeps the live runs alive while the sandbox runs.

    python -m tradeops.sandbox.servers.writer --config DIR/sandbox.json

Reads `store` and `live_runs` from sandbox.json, prints `READY`, then appends a HEARTBEAT
for every live run with `heartbeats: true` each time its interval has passed, one short
transaction per tick. Heartbeats keep a fixed rate, as a platform's scheduler does: each
is owed one interval after the previous one, so a writer that starts late (a big store
takes seconds to build) or is held up (a busy machine) writes the beats it owes, stamped
at their times, instead of drifting behind and losing one beat per delay.

Like a well-run platform it also sets `journal_size_limit`: SQLite's automatic checkpoint
(every 1000 pages) rewinds the WAL but never shrinks the file, so a WAL that grew while
readers held old snapshots would stay at its peak for good; with the limit, the file is
cut back to JOURNAL_LIMIT_MB at the first rewind after the readers are gone.

It never changes the store's journal mode (the wal_off scenario must stay in
rollback-journal mode) and exits on SIGTERM/SIGINT or when its parent is gone. Standard
library only, so it starts fast.

With sandbox.json's `writer.checkpoint_stalled` it turns automatic checkpoints off and,
before READY, appends about `writer.diagnostic_mb` (default 16) MB of DIAGNOSTIC events
(a type the contract does not know, so readers ignore them); its connection stays open,
so the WAL stays that big while the sandbox runs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import time
from pathlib import Path
from types import FrameType
from typing import Any

_NAME = "tradeops.sandbox.servers.writer"  # the prefix of its stderr lines
BUSY_TIMEOUT_MS = 2_000  # a reader's lock (rollback-journal mode) is waited for, not fatal
PARENT_POLL_S = 1.0
MAX_SLEEP_S = 0.25  # keeps SIGTERM and the parent check prompt
MAX_ERROR_LINES = 20  # stderr may be a pipe nobody drains: never flood it
# Where the WAL file is cut back to after a checkpoint (the sandbox's limit is 8 MB).
JOURNAL_LIMIT_MB = 4
# A writer at most this far behind catches up beat by beat; further, it owes no more.
MAX_CATCH_UP_MS = 3_600_000
DIAGNOSTIC_MB = 16.0  # checkpoint_stalled: how big the WAL grows before READY
DIAGNOSTIC_BATCH = 1_000  # events per transaction (~1 MB of payload)

# run_seq is read inside the write transaction, so it stays contiguous whoever else writes.
_APPEND = (
    "INSERT INTO events (ts, type, run_id, run_seq, strategy_id, instrument, account_id, payload)"
    " SELECT ?, 'HEARTBEAT', ?, coalesce(max(run_seq), 0) + 1, ?, ?, ?, '{}'"
    " FROM events WHERE run_id = ?"
)
_LAST_BEAT = (
    "SELECT ts FROM events WHERE run_id = ? AND type = 'HEARTBEAT' ORDER BY run_seq DESC LIMIT 1"
)


class Writer:
    """Appends the live runs' heartbeats on time."""

    def __init__(self, store: str, runs: list[dict[str, Any]]) -> None:
        self.path = Path(store).absolute()
        # mode=rw: a wrong path is an error, not a new empty database.
        self.con = sqlite3.connect(
            f"{self.path.as_uri()}?mode=rw",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
        )
        self.con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self.con.execute(f"PRAGMA journal_size_limit={JOURNAL_LIMIT_MB * 1_000_000}")
        self.runs = [r for r in runs if r.get("heartbeats")]
        self.last = {r["run_id"]: self._last_beat(r["run_id"]) for r in self.runs}
        # No event is stamped before the newest one: the store's time stays in order.
        self.newest = int(self.con.execute("SELECT coalesce(max(ts), 0) FROM events").fetchone()[0])
        self.errors = 0

    def _last_beat(self, run_id: str) -> int:
        row = self.con.execute(_LAST_BEAT, (run_id,)).fetchone()
        if row is None:  # no heartbeat yet: count from the run's latest event
            row = self.con.execute(
                "SELECT max(ts) FROM events WHERE run_id = ?", (run_id,)
            ).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def tick(self, now_ms: int) -> float:
        """Write the heartbeats now due; seconds until the next one is."""
        rows = []
        for r in self.runs:
            step = r["heartbeat_interval_s"] * 1000
            slot = max(self.last[r["run_id"]], now_ms - MAX_CATCH_UP_MS) + step
            while slot <= now_ms:  # every beat owed by now, at the time it was owed
                rows.append((slot, r))
                slot += step
        if rows:
            rows.sort(key=lambda row: row[0])
            self._append(rows)
        waits = [
            (self.last[r["run_id"]] + r["heartbeat_interval_s"] * 1000 - now_ms) / 1000
            for r in self.runs
        ]
        return max(0.01, min([MAX_SLEEP_S, *waits]))

    def _append(self, due: list[tuple[int, dict[str, Any]]]) -> None:
        stamped = [(max(slot, self.newest), r) for slot, r in due]
        rows = [
            (ts, r["run_id"], r["strategy_id"], r["instrument"], r["account_id"], r["run_id"])
            for ts, r in stamped
        ]
        try:
            self.con.execute("BEGIN IMMEDIATE")
            self.con.executemany(_APPEND, rows)
            self.con.execute("COMMIT")
        except sqlite3.OperationalError as exc:  # busy or locked: try again next tick
            if self.con.in_transaction:
                self.con.execute("ROLLBACK")
            self._complain(f"heartbeat append failed, will retry: {exc}")
            return
        for (slot, r), (ts, _) in zip(due, stamped, strict=True):
            self.last[r["run_id"]] = max(self.last[r["run_id"]], slot)
            self.newest = max(self.newest, ts)

    def _complain(self, message: str) -> None:
        self.errors += 1
        if self.errors <= MAX_ERROR_LINES:
            print(f"{_NAME}: {message}", file=sys.stderr, flush=True)

    def stall_checkpoints(self, target_mb: float) -> int:
        """Turn automatic checkpoints off and append DIAGNOSTIC events until the WAL holds
        target_mb; the number of events appended."""
        self.con.execute("PRAGMA wal_autocheckpoint=0")
        wal = Path(f"{self.path}-wal")
        written = 0
        # Bounded by what was written too: a store not in WAL mode never grows a WAL.
        for _ in range(int(2 * target_mb) + 2):
            if _size(wal) >= target_mb * 1_000_000:
                break
            now_ms = time.time_ns() // 1_000_000
            rows = [(now_ms, _diagnostic(written + i)) for i in range(DIAGNOSTIC_BATCH)]
            self.con.execute("BEGIN IMMEDIATE")
            self.con.executemany(
                "INSERT INTO events (ts, type, payload) VALUES (?, 'DIAGNOSTIC', ?)", rows
            )
            self.con.execute("COMMIT")
            written += len(rows)
            self.newest = max(self.newest, now_ms)
        return written

    def close(self) -> None:
        """Release the store."""
        self.con.close()


def _diagnostic(n: int) -> str:
    """A ~1 KB DIAGNOSTIC payload: an order router's latency histogram, as platforms dump."""
    buckets = [(n * 7919 + k * 104729) % 100_000 for k in range(150)]
    body = {"component": "order-router", "metric": "fill_latency_us", "sample": n}
    body["buckets"] = buckets
    return json.dumps(body, separators=(",", ":"))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def main(argv: list[str] | None = None) -> int:
    """Run the writer until SIGTERM or the parent's death; the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tradeops.sandbox.servers.writer")
    parser.add_argument("--config", required=True, type=Path, help="the sandbox's sandbox.json")
    args = parser.parse_args(argv)
    try:
        config = json.loads(args.config.read_text())
    except (OSError, ValueError) as exc:
        print(f"{_NAME}: cannot read {args.config}: {exc}", file=sys.stderr)
        return 1
    parent = os.getppid()
    stopping: list[int] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        writer = Writer(config["store"], config["live_runs"])
    except (sqlite3.Error, KeyError, TypeError) as exc:
        where = config.get("store") if isinstance(config, dict) else None
        print(
            f"{_NAME}: cannot open the store {where}: {exc}",
            file=sys.stderr,
        )
        return 1
    stalled = config.get("writer") or {}
    if stalled.get("checkpoint_stalled"):
        try:
            target = float(stalled.get("diagnostic_mb", DIAGNOSTIC_MB))
            writer.stall_checkpoints(target)
        except (sqlite3.Error, TypeError, ValueError) as exc:
            print(f"{_NAME}: cannot stall checkpoints: {exc}", file=sys.stderr)
            writer.close()
            return 1
    print("READY", flush=True)
    next_parent_check = time.monotonic() + PARENT_POLL_S
    try:
        while not stopping:
            wait = writer.tick(time.time_ns() // 1_000_000)
            if time.monotonic() >= next_parent_check:
                if os.getppid() != parent:  # the parent died: no orphan outlives it
                    break
                next_parent_check = time.monotonic() + PARENT_POLL_S
            time.sleep(wait)
    finally:
        writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
