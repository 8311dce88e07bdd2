"""The healthy writer gives the suite no false alarm, however late it starts or long it runs.

Two alarms were measured on the healthy sandbox (issue 12): at 300 strategies the store
took seconds to build, every live run missed the heartbeats owed meanwhile, and
`slo[heartbeat_delivery]` paged; and after runs back to back against one sandbox the WAL
file stayed past the sandbox's 8 MB limit, because SQLite rewinds a checkpointed WAL but
never shrinks it, and at 300 strategies a suite run holds it from rewinding long enough
to pass 8 MB (9.4 to 18 MB measured). All three were the sandbox's: a platform's heartbeats keep
a fixed rate, a well-run platform caps its WAL file with journal_size_limit, and a WAL
limit is sized for the platform's write rate (the sandbox's manifest now sizes it).
"""

from __future__ import annotations

import sqlite3
import time
from itertools import pairwise
from pathlib import Path

from tradeops.sandbox.platform import WAL_MAX_MB, wal_growth_per_minute_mb, wal_limit_mb
from tradeops.sandbox.servers.writer import JOURNAL_LIMIT_MB, Writer
from tradeops.sandbox.store.generator import BuildResult, StoreParams, build_platform_data

PARAMS = StoreParams(
    days=3, strategies=3, heartbeat_interval_s=1, session_hours=1.0, live_minutes=2
)


def _built(directory: Path) -> BuildResult:
    return build_platform_data(directory, PARAMS, frozenset(), int(time.time() * 1000))


def _beats(store: Path) -> dict[str, list[int]]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT run_id, ts FROM events WHERE type = 'HEARTBEAT' ORDER BY seq"
        ).fetchall()
    beats: dict[str, list[int]] = {}
    for run_id, ts in rows:
        beats.setdefault(run_id, []).append(ts)
    return beats


def _largest_gaps(built: BuildResult) -> dict[str, int]:
    """run id -> its largest gap between two heartbeats, in intervals (1 = none missed)."""
    step = PARAMS.heartbeat_interval_s * 1000
    alive = {r["run_id"] for r in built.live_runs if r["heartbeats"]}
    return {
        run_id: max((b - a) // step for a, b in pairwise(ts))
        for run_id, ts in _beats(built.store).items()
        if run_id in alive
    }


def test_a_writer_that_starts_late_writes_the_heartbeats_owed_meanwhile(tmp_path: Path) -> None:
    built = _built(tmp_path)
    writer = Writer(str(built.store), built.live_runs)
    try:
        # The writer starts 35 s after the live session was generated, as at 300 strategies.
        writer.tick(built.notes["now_ms"] + 35_000)
        writer.tick(built.notes["now_ms"] + 36_000)
    finally:
        writer.close()
    gaps = _largest_gaps(built)
    assert gaps and set(gaps.values()) == {1}


def test_a_writer_held_up_on_every_tick_still_misses_no_heartbeat(tmp_path: Path) -> None:
    built = _built(tmp_path)
    writer = Writer(str(built.store), built.live_runs)
    try:
        for tick in range(1, 40):  # each tick 0.3 s later than the beat it serves
            writer.tick(built.notes["now_ms"] + tick * 1_300)
    finally:
        writer.close()
    assert set(_largest_gaps(built).values()) == {1}


def _newest(store: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as con:
        return con.execute("SELECT max(seq), max(ts) FROM events").fetchone()


def test_the_store_time_stays_in_order_while_the_writer_catches_up(tmp_path: Path) -> None:
    built = _built(tmp_path)
    last_seq, newest_ts = _newest(built.store)
    writer = Writer(str(built.store), built.live_runs)
    try:
        writer.tick(built.notes["now_ms"] + 20_000)
    finally:
        writer.close()
    with sqlite3.connect(f"file:{built.store}?mode=ro", uri=True) as con:
        ts = [
            t
            for (t,) in con.execute("SELECT ts FROM events WHERE seq > ? ORDER BY seq", (last_seq,))
        ]
    assert len(ts) >= 20 and ts[0] >= newest_ts
    assert all(a <= b for a, b in pairwise(ts))


def test_a_wal_grown_under_readers_shrinks_back_under_the_limit_once_they_are_gone(
    tmp_path: Path,
) -> None:
    built = _built(tmp_path)
    wal = Path(f"{built.store}-wal")
    writer = Writer(str(built.store), built.live_runs)
    reader = sqlite3.connect(f"file:{built.store}?mode=ro", uri=True, isolation_level=None)
    now = built.notes["now_ms"]
    try:
        # A reader holding one snapshot: checkpoints cannot rewind the WAL, so it grows.
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM events").fetchone()
        for _ in range(20_000):  # bounded; about 3,000 ticks pass the limit
            now += 1_000
            writer.tick(now)
            if wal.stat().st_size > 1.5 * WAL_MAX_MB * 1_000_000:
                break
        grown = wal.stat().st_size
        reader.execute("COMMIT")
        # The reader is gone: the next automatic checkpoint rewinds the WAL and cuts it.
        sizes = []
        for _ in range(6_000):
            now += 1_000
            writer.tick(now)
            sizes.append(wal.stat().st_size)
    finally:
        reader.close()
        writer.close()
    assert grown > 1.5 * WAL_MAX_MB * 1_000_000
    assert sizes[-1] <= JOURNAL_LIMIT_MB * 1_000_000 < WAL_MAX_MB * 1_000_000


def test_a_minute_of_heartbeats_under_a_held_reader_grows_the_wal_no_more_than_the_limit_allows(
    tmp_path: Path,
) -> None:
    built = _built(tmp_path)
    wal = Path(f"{built.store}-wal")
    writer = Writer(str(built.store), built.live_runs)
    reader = sqlite3.connect(f"file:{built.store}?mode=ro", uri=True, isolation_level=None)
    now = built.notes["now_ms"]
    try:
        writer.tick(now)
        before = wal.stat().st_size if wal.exists() else 0
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM events").fetchone()
        end = now + 60_000
        while now < end:  # the writer's own cadence: it says how long to sleep
            now += round(writer.tick(now) * 1000)
        grown = wal.stat().st_size - before
        reader.execute("COMMIT")
    finally:
        reader.close()
        writer.close()
    assert 0 < grown <= wal_growth_per_minute_mb(built.live_runs) * 1_000_000


def test_the_wal_limit_grows_with_the_live_runs_past_the_8_mb_that_false_alarmed() -> None:
    def runs(n: int) -> list[dict]:
        return [{"heartbeat_interval_s": 10, "heartbeats": True}] * n

    assert wal_limit_mb(runs(27)) == WAL_MAX_MB  # the default sandbox: 30 strategies
    assert wal_limit_mb(runs(270)) > 18.1  # 300 strategies: the largest peak measured
    assert wal_limit_mb(runs(540)) > wal_limit_mb(runs(270))
