"""The heartbeat writer: a real process appending to a real store while a reader reads it."""

from __future__ import annotations

import json
import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradeops.sandbox.platform import WAL_MAX_MB
from tradeops.sandbox.servers.writer import DIAGNOSTIC_MB, Writer
from tradeops.sandbox.store.generator import BuildResult, StoreParams, build_platform_data

# One-second heartbeats and one-hour sessions keep the store small and the test quick.
PARAMS = StoreParams(
    days=3, strategies=3, heartbeat_interval_s=1, session_hours=1.0, live_minutes=2
)
START_TIMEOUT_S = 10.0


def _sandbox(directory: Path, *faults: str, writer: dict | None = None) -> tuple[BuildResult, Path]:
    built = build_platform_data(directory, PARAMS, frozenset(faults), int(time.time() * 1000))
    config = directory / "sandbox.json"
    body = {"store": str(built.store), "live_runs": built.live_runs, "writer": writer or {}}
    config.write_text(json.dumps(body))
    return built, config


def _first_line(process: subprocess.Popen, timeout_s: float) -> str:
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout_s):
            return ""
        return process.stdout.readline().strip()


Running = tuple[BuildResult, subprocess.Popen]


@pytest.fixture
def writer(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Running]:
    """A sandbox store and its writer. The indirect parameter: the faults (default
    stale_run), or (faults, sandbox.json's writer block)."""
    param = getattr(request, "param", ("stale_run",))
    faults, block = param if param and isinstance(param[-1], dict) else (param, None)
    built, config = _sandbox(tmp_path, *faults, writer=block)
    process = subprocess.Popen(
        [sys.executable, "-m", "tradeops.sandbox.servers.writer", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _first_line(process, START_TIMEOUT_S) == "READY"
        yield built, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=5)


def _beats(store: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT run_id, count(*) FROM events WHERE type = 'HEARTBEAT' GROUP BY run_id"
        ).fetchall()
    return dict(rows)


def _read_until_beats(store: Path, alive: list[str], before: dict[str, int], n: int) -> int:
    """Read concurrently (short read-only transactions) until every live run has n new beats."""
    reads = 0
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        now = _beats(store)
        reads += 1
        if all(now.get(r, 0) - before.get(r, 0) >= n for r in alive):
            return reads
        time.sleep(0.05)
    raise AssertionError(f"no {n} new heartbeats within 15 s: {before} -> {now}")


def test_the_writer_keeps_live_runs_alive_while_a_reader_reads(writer: Running) -> None:
    built, process = writer
    alive = [r["run_id"] for r in built.live_runs if r["heartbeats"]]
    frozen = [r["run_id"] for r in built.live_runs if not r["heartbeats"]]
    assert alive and frozen
    before = _beats(built.store)
    reads = _read_until_beats(built.store, alive, before, 2)
    process.terminate()
    assert process.wait(timeout=5) == 0 and process.stderr.read() == ""
    assert reads > 1
    with sqlite3.connect(f"file:{built.store}?mode=ro", uri=True) as con:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        holes = con.execute(
            "SELECT run_id FROM events WHERE run_id IS NOT NULL GROUP BY run_id"
            " HAVING count(*) != max(run_seq) OR count(DISTINCT run_seq) != count(*)"
        ).fetchall()
        assert holes == []
        new = con.execute(
            "SELECT run_id, strategy_id, instrument, account_id, payload FROM events"
            " WHERE seq > ? ORDER BY seq",
            (built.events,),
        ).fetchall()
    listed = {r["run_id"]: r for r in built.live_runs}
    assert {run_id for run_id, *_ in new} == set(alive)  # the frozen run stays stale
    for run_id, strategy, instrument, account, payload in new:
        r = listed[run_id]
        assert (strategy, instrument, account, payload) == (
            r["strategy_id"], r["instrument"], r["account_id"], "{}"
        )  # fmt: skip
    assert _beats(built.store).get(frozen[0]) == before.get(frozen[0])


@pytest.mark.parametrize("writer", [("wal_off",)], indirect=True)
def test_the_writer_leaves_a_rollback_journal_store_in_its_mode(writer: Running) -> None:
    built, process = writer
    alive = [r["run_id"] for r in built.live_runs]
    _read_until_beats(built.store, alive, _beats(built.store), 1)
    process.terminate()
    assert process.wait(timeout=5) == 0
    with sqlite3.connect(f"file:{built.store}?mode=ro", uri=True) as con:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)


@pytest.mark.parametrize(
    "writer", [((), {"checkpoint_stalled": True})], ids=["checkpoint_stalled"], indirect=True
)
def test_a_stalled_writer_grows_its_wal_past_the_limit_and_never_checkpoints(
    writer: Running,
) -> None:
    built, process = writer
    wal = Path(f"{built.store}-wal")
    grown = wal.stat().st_size
    assert grown >= DIAGNOSTIC_MB * 1_000_000 > 1.5 * WAL_MAX_MB * 1_000_000
    with sqlite3.connect(f"file:{built.store}?mode=ro", uri=True) as con:
        rows = con.execute(
            "SELECT ts, run_id, run_seq, strategy_id, instrument, account_id, payload"
            " FROM events WHERE type = 'DIAGNOSTIC'"
        ).fetchall()
    assert len(rows) > 10_000
    assert {r[1:6] for r in rows} == {(None,) * 5}  # platform-scoped, a type nobody reads
    assert min(r[0] for r in rows) >= built.notes["now_ms"]  # appended in time order
    assert all(900 < len(r[6]) < 1100 and isinstance(json.loads(r[6]), dict) for r in rows)
    # Heartbeats go on while readers come and go, and every commit lands past the old end
    # of the WAL: no checkpoint ever reset it.
    alive = [r["run_id"] for r in built.live_runs if r["heartbeats"]]
    _read_until_beats(built.store, alive, _beats(built.store), 1)
    assert wal.stat().st_size > grown
    process.terminate()
    assert process.wait(timeout=5) == 0 and process.stderr.read() == ""


def test_a_healthy_writer_checkpoints_so_its_wal_stays_under_the_sandbox_limit(
    tmp_path: Path,
) -> None:
    built, _ = _sandbox(tmp_path)
    writer = Writer(str(built.store), built.live_runs)
    wal = Path(f"{built.store}-wal")
    sizes = []
    try:
        # Every tick commits at least one 4 KB page: 3000 ticks put over 12 MB through the
        # WAL, more than the limit, so it stays small only because checkpoints complete.
        for tick in range(3000):
            writer.tick(built.notes["now_ms"] + (tick + 1) * 1000)
            sizes.append(wal.stat().st_size)
    finally:
        writer.close()
    assert writer.errors == 0
    assert max(sizes) < WAL_MAX_MB * 1_000_000 / 1.5


_ORPHANER = """
import subprocess, sys
writer = "tradeops.sandbox.servers.writer"
child = subprocess.Popen([sys.executable, "-m", writer, "--config", sys.argv[1]],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
print(child.stdout.readline().strip(), child.pid, flush=True)
child.wait()
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")  # exited; only waiting for init to reap it


def test_the_writer_exits_when_its_parent_dies(tmp_path: Path) -> None:
    _, config = _sandbox(tmp_path)
    parent = subprocess.Popen(
        [sys.executable, "-c", _ORPHANER, str(config)], stdout=subprocess.PIPE, text=True
    )
    try:
        ready, pid = _first_line(parent, START_TIMEOUT_S).split()
        assert ready == "READY" and not _gone(int(pid))
        parent.kill()
        parent.wait(timeout=5)
        deadline = time.monotonic() + 10
        while not _gone(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(int(pid))
    finally:
        if parent.poll() is None:
            parent.kill()
        if "pid" in locals() and not _gone(int(pid)):
            os.kill(int(pid), signal.SIGKILL)


def test_a_wrong_store_path_is_a_clear_error_and_creates_nothing(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.json"
    missing = tmp_path / "no such dir" / "events.sqlite"
    config.write_text(json.dumps({"store": str(missing), "live_runs": []}))
    done = subprocess.run(
        [sys.executable, "-m", "tradeops.sandbox.servers.writer", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert "cannot open the store" in done.stderr and not missing.exists()
