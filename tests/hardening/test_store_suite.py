"""The whole suite against a platform whose event store is broken: a failing check, never worse.

A representative subset of the store matrix, run end to end in a child pytest against a
running sandbox (healthy control plane and brokers): each ends as a failing check with
its severity and a message naming the store and the problem (path, or seq and field);
never an INTERNALERROR, never green, never past the child's timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.hardening._store_platform import StorePlatform, store_platform
from tests.suite_runner import SuiteRun, run_suite

pytestmark = pytest.mark.slow
YEAR_2100 = 4_102_444_800_000


def judged(run: SuiteRun) -> SuiteRun:
    assert "INTERNALERROR" not in run.output, run.output[-3000:]
    assert run.returncode in (10, 11), run.output[-3000:]
    assert run.failed(), "the run was green"
    return run


def summary_of(run: SuiteRun, check: str) -> str:
    return next(c["summary"] for c in run.checks if c["check"] == check)


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Iterator[StorePlatform]:
    with store_platform(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


# -- a wrong path: the probe says so at once, P0, naming the path -------------------------


def _symlink_loop(folder: Path) -> Path:
    (folder / "loop.sqlite").symlink_to(folder / "loop2.sqlite")
    (folder / "loop2.sqlite").symlink_to(folder / "loop.sqlite")
    return folder / "loop.sqlite"


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "events.fifo")
    return folder / "events.fifo"


def _text(folder: Path) -> Path:
    (folder / "events.csv").write_text("seq,ts,type\n")
    return folder / "events.csv"


def _empty(folder: Path) -> Path:
    (folder / "empty.sqlite").touch()
    return folder / "empty.sqlite"


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (_symlink_loop, "is a symlink loop"),
        (_fifo, "is a FIFO (named pipe), not an SQLite file"),
        (_text, "is not an SQLite database"),
        (_empty, "is an empty file (0 bytes)"),
    ],
    ids=["symlink-loop", "fifo", "text-file", "zero-bytes"],
)
def test_a_wrong_store_path_is_a_p0_naming_the_path(
    platform: StorePlatform, tmp_path: Path, make: Callable[[Path], Path], problem: str
) -> None:
    path = make(tmp_path)
    run = judged(
        run_suite(
            tmp_path,
            f"--ops-config={platform.manifest_for(path)}",
            "-n",
            "0",
            env=platform.env,
            paths=("checks", "slo"),
        )
    )
    assert run.failed()["event_store_writes"] == "P0"
    assert f"event store unreadable: the event store {path} {problem}" in summary_of(
        run, "event_store_writes"
    ) or f"event store unreadable: {path} {problem}" in summary_of(run, "event_store_writes")
    assert run.returncode == 10


_LOCKER = """
import sqlite3, sys
source = sqlite3.connect(sys.argv[1])
copy = sqlite3.connect(sys.argv[2], isolation_level=None)
source.backup(copy)
source.close()
copy.execute("PRAGMA journal_mode=WAL")
copy.execute("PRAGMA locking_mode=EXCLUSIVE")
copy.execute("BEGIN EXCLUSIVE")
copy.execute("DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)")
print("LOCKED", flush=True)
sys.stdin.read()
"""


def test_a_store_locked_by_another_process_is_a_p0_within_the_busy_timeout(
    platform: StorePlatform, tmp_path: Path
) -> None:
    copy = tmp_path / "locked.sqlite"
    locker = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(platform.store), str(copy)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert locker.stdin is not None and locker.stdout is not None
    try:
        assert locker.stdout.readline().strip() == "LOCKED"
        run = judged(
            run_suite(
                tmp_path,
                f"--ops-config={platform.manifest_for(copy)}",
                "-n",
                "2",
                env=platform.env,
                paths=("checks", "slo"),
            )
        )
    finally:
        locker.stdin.close()
        locker.wait(timeout=10)
        locker.stdout.close()
    assert run.failed()["event_store_writes"] == "P0"
    assert f"{copy} stayed locked for more than 2 s" in summary_of(run, "event_store_writes")


# -- a bad value in the live store: named by its seq and field ----------------------------


def _live_run(p: StorePlatform) -> tuple[str, str, str, str, int]:
    [row] = p.rows(
        "SELECT run_id, strategy_id, instrument, account_id, "
        "(SELECT MAX(run_seq) FROM events h WHERE h.run_id = s.run_id) "
        "FROM events s WHERE type = 'RUN_STARTED' ORDER BY seq DESC LIMIT 1"
    )
    return row


def test_a_fill_of_abc_units_fails_its_strategys_position_check_naming_the_seq(tmp_path):
    with store_platform(tmp_path / "sandbox") as p:
        run_id, strategy, instrument, account, _ = _live_run(p)
        seq = p.edit(
            "INSERT INTO events (ts, type, run_id, strategy_id, instrument, account_id, payload) "
            "VALUES (CAST(strftime('%s', 'now') AS INTEGER) * 1000, 'ORDER_FILLED', ?, ?, ?, ?, ?)",
            (
                run_id,
                strategy,
                instrument,
                account,
                '{"client_order_id": "c-x", '
                '"broker_transaction_id": "9", "units": "abc", "price": "1.1"}',
            ),
        )
        run = judged(run_suite(tmp_path, f"--ops-config={p.manifest}", "-n", "0", env=p.env))
    check = f"positions_match_broker[{strategy}]"
    assert run.failed()[check] == "P1"
    message = next(
        c["summary"]
        for c in run.checks
        if c["check"] == "positions_match_broker" and c["subject"] == strategy
    )
    assert f"ORDER_FILLED seq {seq}: `units`: expected an integer, got text 'abc'" in message
    # The account's fills are in doubt: the P&L check is skipped, the broker's figures judged.
    skipped = run.skipped()
    assert skipped[f"pnl_adds_up[{account}]"].startswith("unreliable: store positions unreadable")
    assert run.outcomes()[f"margin_closeout[{account}]"] == "passed"


@pytest.mark.parametrize(
    ("ts", "problem"),
    [
        (YEAR_2100, "`ts`: 4102444800000 (2100-01-01T00:00:00Z) is in the future"),
        ("'soon'", "`ts`: expected epoch milliseconds, got text 'soon'"),
    ],
    ids=["year-2100", "text"],
)
def test_a_heartbeat_with_an_unusable_ts_fails_the_sequence_check_naming_the_seq(
    tmp_path, ts, problem
):
    with store_platform(tmp_path / "sandbox") as p:
        run_id, strategy, instrument, account, last = _live_run(p)
        # Far ahead in run_seq, so it is the run's newest heartbeat whatever the writer adds.
        seq = p.edit(
            "INSERT INTO events (ts, type, run_id, run_seq, strategy_id, instrument, account_id) "
            f"VALUES ({ts}, 'HEARTBEAT', ?, ?, ?, ?, ?)",
            (run_id, last + 1_000_000, strategy, instrument, account),
        )
        run = judged(run_suite(tmp_path, f"--ops-config={p.manifest}", "-n", "0", env=p.env))
    assert run.failed()["event_store_sequence"] == "P2"
    assert f"HEARTBEAT: {problem}" in summary_of(run, "event_store_sequence")
    assert f"seq {seq}" in run.output
