"""The bad-input matrix, event store half: every broken or hostile store is a clear error.

Each case builds a real file (a WAL SQLite store, a FIFO, a symlink loop...) and asserts
what the connector says about it: its own sentence naming the path, or the event's seq
and field; never a crash, never a hang, never a silent pass. The whole-suite outcome of
a representative subset is in test_store_suite.py.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.storebuilder import ACCOUNT, StoreBuilder
from tradeops.connectors.errors import EventStoreError, StoreValueError
from tradeops.connectors.event_store import EventStore
from tradeops.liveness import stale_finding

NOW = StoreBuilder.now_ms  # the builder's fixed "now": 2026-11-18, before our clock
HOUR = 3_600_000
YEAR_2100 = 4_102_444_800_000
CALL_DEADLINE_S = 20  # a FIFO or a lock must never hold a read past this


def healthy(path: Path) -> StoreBuilder:
    """One live run with heartbeats and a fill: the store every bad case starts from."""
    b = StoreBuilder(path, now_ms=NOW)
    b.run_started("r-1", ts=NOW - HOUR).heartbeats("r-1", count=3).fill("r-1", 1000)
    return b


def within_deadline(call: Callable[[], object]) -> object:
    """Run `call` in a thread; fail (not hang) if it is still running at the deadline."""
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(CALL_DEADLINE_S)
    assert not thread.is_alive(), f"the read was still blocked after {CALL_DEADLINE_S} s"
    if "error" in result:
        raise result["error"]  # type: ignore[misc]
    return result.get("value")


def refused(path: Path, **kwargs: float) -> str:
    """The EventStoreError message for reading the store at `path` (it must refuse)."""
    with pytest.raises(EventStoreError) as caught:
        within_deadline(lambda: EventStore(path, **kwargs).count_events())
    assert not isinstance(caught.value, StoreValueError)
    return str(caught.value)


# -- what the path is ------------------------------------------------------------------


def test_a_missing_file(tmp_path):
    assert refused(tmp_path / "none.sqlite") == f"no event store at {tmp_path / 'none.sqlite'}"


def test_a_directory(tmp_path):
    message = refused(tmp_path)
    assert message == f"the event store {tmp_path} is a directory, not an SQLite file"


def test_a_fifo_is_refused_at_once_not_opened(tmp_path):
    fifo = tmp_path / "events.sqlite"
    os.mkfifo(fifo)
    assert refused(fifo) == f"the event store {fifo} is a FIFO (named pipe), not an SQLite file"


def test_a_character_device(tmp_path):
    link = tmp_path / "events.sqlite"
    link.symlink_to("/dev/null")
    assert refused(link) == f"the event store {link} is a character device, not an SQLite file"


def test_a_socket(tmp_path):
    path = Path(tempfile.mkdtemp(dir="/tmp")) / "s.sock"  # AF_UNIX paths are short
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        assert refused(path) == f"the event store {path} is a socket, not an SQLite file"
    finally:
        server.close()
        shutil.rmtree(path.parent)


def test_a_symlink_loop(tmp_path):
    loop = tmp_path / "events.sqlite"
    loop.symlink_to(tmp_path / "other")
    (tmp_path / "other").symlink_to(loop)
    assert refused(loop) == f"the event store {loop} is a symlink loop"


def test_a_dangling_symlink(tmp_path):
    link = tmp_path / "events.sqlite"
    link.symlink_to(tmp_path / "gone.sqlite")
    message = refused(link)
    assert (
        message
        == f"the event store {link} is a symlink to {tmp_path}/gone.sqlite, which does not exist"
    )


_UNREADABLE = """
from tradeops.connectors.event_store import EventStore
try:
    EventStore({path!r}).count_events()
except Exception as exc:
    print(type(exc).__name__, exc)
"""


def test_an_unreadable_file(tmp_path):
    folder = Path(tempfile.mkdtemp(dir="/tmp"))  # pytest's tmp_path is root-only (0700)
    try:
        path = folder / "events.sqlite"
        healthy(path).write()
        path.chmod(0)
        folder.chmod(0o755)
        if os.geteuid() != 0:
            message = refused(path)
        else:
            # Root reads any file: ask as `nobody`, with an interpreter nobody may run.
            python = shutil.which("python3", path="/usr/bin:/usr/local/bin")
            if python is None:
                pytest.skip("as root, and no system python3 to run as nobody")
            done = subprocess.run(
                [python, "-c", _UNREADABLE.format(path=str(path))],
                user=65534,
                group=65534,
                env={"PYTHONPATH": str(Path(__file__).resolve().parents[2])},
                capture_output=True,
                text=True,
                timeout=60,
                cwd="/tmp",
            )
            if "EventStore" not in done.stdout and done.returncode != 0:
                pytest.skip(f"as root; `nobody` cannot run the suite's code: {done.stderr[-200:]}")
            message = done.stdout.strip().removeprefix("EventStoreError ")
        assert message.startswith(f"cannot read the event store {path}: permission denied")
    finally:
        shutil.rmtree(folder)


# -- what the file holds -----------------------------------------------------------------


def test_a_zero_byte_file(tmp_path):
    path = tmp_path / "events.sqlite"
    path.touch()
    assert refused(path) == f"the event store {path} is an empty file (0 bytes)"


def test_a_text_file(tmp_path):
    path = tmp_path / "events.sqlite"
    path.write_text("seq,ts,type\n1,2,HEARTBEAT\n")
    assert refused(path) == f"{path} is not an SQLite database"


def test_a_corrupt_header(tmp_path):
    path = healthy(tmp_path / "events.sqlite").write()
    data = bytearray(path.read_bytes())
    data[16:100] = b"\xff" * 84  # page size, versions, counters: all nonsense
    path.write_bytes(bytes(data))
    (tmp_path / "events.sqlite-wal").unlink(missing_ok=True)
    message = refused(path)
    assert message.startswith(str(path)) and (
        "not an SQLite database" in message or "corrupt" in message
    )


def test_scribbled_pages(tmp_path):
    b = healthy(tmp_path / "events.sqlite")
    b.heartbeats("r-1", count=3000)
    path = b.write()
    data = bytearray(path.read_bytes())
    data[4096:] = b"\x5a" * (len(data) - 4096)
    path.write_bytes(bytes(data))
    assert refused(path).startswith(f"{path} is corrupt (")


def test_a_truncated_file(tmp_path):
    b = healthy(tmp_path / "events.sqlite")
    b.heartbeats("r-1", count=3000)
    path = b.write()
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 3)
    assert refused(path).startswith(f"{path} is corrupt (")


def _plain_sqlite(path: Path, ddl: str, rows: list[str] = ()) -> Path:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute(ddl)
    for row in rows:
        conn.execute(row)
    conn.close()
    return path


def test_no_events_table(tmp_path):
    path = _plain_sqlite(tmp_path / "events.sqlite", "CREATE TABLE trades (id INTEGER)")
    assert refused(path) == f"{path} has no `events` table: is this the platform's event store?"


def test_missing_columns(tmp_path):
    ddl = "CREATE TABLE events (seq INTEGER PRIMARY KEY, ts INTEGER, type TEXT, payload TEXT)"
    path = _plain_sqlite(tmp_path / "events.sqlite", ddl)
    assert "lacks column(s) run_id, run_seq, strategy_id, instrument, account_id" in refused(path)


def test_extra_columns_are_read_past(tmp_path):
    path = healthy(tmp_path / "events.sqlite").write()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE events ADD COLUMN host TEXT")
    conn.close()
    with EventStore(path) as store:
        assert store.net_positions() == {(ACCOUNT, "EUR_USD"): 1000}


def _exclusive_locker(path: Path) -> subprocess.Popen:
    code = (
        "import sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA locking_mode=EXCLUSIVE'); c.execute('BEGIN EXCLUSIVE')\n"
        "c.execute(\"INSERT INTO events (ts, type) VALUES (1795000000000, 'HEARTBEAT')\")\n"
        "print('LOCKED', flush=True); sys.stdin.read()\n"
    )
    locker = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert locker.stdout is not None and locker.stdout.readline().strip() == "LOCKED"
    return locker


def test_a_wal_store_locked_exclusively_by_another_process(tmp_path):
    path = healthy(tmp_path / "events.sqlite").write()
    locker = _exclusive_locker(path)
    try:
        assert refused(path, busy_timeout_s=0.3) == f"{path} stayed locked for more than 0.3 s"
    finally:
        assert locker.stdin is not None and locker.stdout is not None
        locker.stdin.close()
        locker.wait(timeout=10)
        locker.stdout.close()


def test_a_missing_wal_file_reads_the_checkpointed_store(tmp_path):
    path = healthy(tmp_path / "events.sqlite").write()
    (tmp_path / "events.sqlite-wal").unlink(missing_ok=True)
    with EventStore(path) as store:
        assert store.count_events() == 5


def test_a_corrupt_shm_is_rebuilt_by_sqlite_and_the_store_reads_right(tmp_path):
    path = healthy(tmp_path / "events.sqlite").write()
    (tmp_path / "events.sqlite-shm").write_bytes(os.urandom(32768))
    with EventStore(path) as store:
        assert store.count_events() == 5


# -- what the rows hold -------------------------------------------------------------------


def _loose(path: Path) -> Path:
    """A store of the contract's columns without NOT NULL (another platform's DDL)."""
    ddl = (
        "CREATE TABLE events (seq INTEGER PRIMARY KEY, ts INTEGER, type TEXT, run_id TEXT, "
        "run_seq INTEGER, strategy_id TEXT, instrument TEXT, account_id TEXT, payload TEXT)"
    )
    return _plain_sqlite(path, ddl)


def _insert(path: Path, **row: object) -> int:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        names = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        return conn.execute(
            f"INSERT INTO events ({names}) VALUES ({marks})", list(row.values())
        ).lastrowid
    finally:
        conn.close()


def test_a_null_ts_is_named_by_seq(tmp_path):
    path = _loose(tmp_path / "events.sqlite")
    seq = _insert(path, ts=None, type="HEARTBEAT", payload="{}")
    with EventStore(path) as store:
        assert store.bad_timestamps() == [
            (seq, "HEARTBEAT", "`ts`: expected epoch milliseconds, got null")
        ]
        with pytest.raises(StoreValueError, match=rf"HEARTBEAT seq {seq}: `ts`"):
            store.newest_event()


def test_a_null_payload_is_named_by_seq(tmp_path):
    path = _loose(tmp_path / "events.sqlite")
    seq = _insert(path, ts=NOW, type="RUN_STARTED", run_id="r-1", run_seq=1, payload=None)
    with EventStore(path) as store:
        [problem] = store.payload_problems(["RUN_STARTED"])
    assert (problem.seq, problem.problem) == (seq, "payload is not valid JSON")


def _fill(b: StoreBuilder, payload: dict | str) -> int:
    b.event("ORDER_FILLED", run_id="r-1", payload=payload)
    return len(b.rows)  # seq of the row just added, in a fresh store


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ("{broken", "payload is not valid JSON"),
        ("[" * 5000 + "]" * 5000, "payload is not valid JSON"),  # nested past SQLite's depth
        (json.dumps({"units": float("nan")}), "payload is not valid JSON"),  # NaN is not JSON
        ({"units": "abc"}, "`units`: expected an integer, got text 'abc'"),
        ({"units": 1e30}, "`units`: expected an integer, got real 1.0e+30"),
        ({"units": 2**60}, "`units`: expected an integer, got integer 1152921504606846976"),
        ({"units": None}, "`units`: expected an integer, got null"),
        ({"price": "1.1"}, "lacks `units`"),
    ],
    ids=["json", "nested", "nan", "abc", "huge-real", "huge-int", "null", "missing"],
)
def test_a_fill_with_unusable_units_makes_its_position_unknown_naming_the_seq(
    tmp_path, payload, problem
):
    b = healthy(tmp_path / "events.sqlite")
    seq = _fill(b, payload)
    with EventStore(b.write()) as store:
        position = store.net_positions()[(ACCOUNT, "EUR_USD")]
    assert isinstance(position, StoreValueError)
    assert (position.seq, position.type) == (seq, "ORDER_FILLED")
    assert f"ORDER_FILLED seq {seq}: {problem}" in str(position)


def test_a_giant_payload_is_read_whole(tmp_path):
    b = healthy(tmp_path / "events.sqlite")
    _fill(b, {"units": 5, "pad": "x" * 20_000_000})
    with EventStore(b.write()) as store:
        assert store.net_positions() == {(ACCOUNT, "EUR_USD"): 1005}


def _newest_heartbeat(b: StoreBuilder, ts: object) -> tuple[EventStore, int]:
    path = b.write()
    row = {"ts": ts, "type": "HEARTBEAT", "run_id": "r-1", "run_seq": 6, "payload": "{}"}
    seq = _insert(path, **row, strategy_id="mr-eurusd-01", instrument="EUR_USD", account_id=ACCOUNT)
    return EventStore(path), seq


@pytest.mark.parametrize(
    ("ts", "problem"),
    [
        ("soon", "`ts`: expected epoch milliseconds, got text 'soon'"),
        (2**63 - 1, "`ts`: 9223372036854775807 is in the future, beyond the clock-skew tolerance"),
        (YEAR_2100, "`ts`: 4102444800000 (2100-01-01T00:00:00Z) is in the future"),
        (-5, "`ts`: -5 (1970-01-01T00:00:00Z) is before 2000"),
        (900_000_000_000, "`ts`: 900000000000 (1998-07-09T16:00:00Z) is before 2000"),
        (1.5e12, "`ts`: expected epoch milliseconds, got real 1500000000000.5"),
    ],
    ids=["text", "int64-max", "year-2100", "negative", "before-2000", "real"],
)
def test_a_newest_heartbeat_with_an_unusable_ts_leaves_the_run_unjudged_naming_the_seq(
    tmp_path, ts, problem
):
    ts = ts + 0.5 if isinstance(ts, float) else ts
    store, seq = _newest_heartbeat(healthy(tmp_path / "events.sqlite"), ts)
    with store:
        [run] = store.live_runs(NOW)
        assert run.problem is not None and (run.problem.seq, run.problem.field) == (seq, "ts")
        assert problem in run.problem.problem
        finding = stale_finding(run, NOW, 3)
        assert finding is not None and finding.where.seq == seq
        assert finding.what.startswith(f"cannot judge staleness: HEARTBEAT seq {seq}: `ts`")
        if not isinstance(ts, float):  # the sweep goes through events_ts: no reals
            assert [s for s, *_ in store.bad_timestamps()] == [seq]
        with pytest.raises(StoreValueError, match=rf"seq {seq}: `ts`"):
            store.newest_event()


def test_a_run_started_with_a_text_ts_is_named(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite", now_ms=NOW)
    path = b.run_started("r-1").write()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE events SET ts = 'yesterday' WHERE seq = 1")
    conn.close()
    with EventStore(path) as store:
        [run] = store.live_runs(NOW)
    assert run.problem is not None and (run.problem.type, run.problem.seq) == ("RUN_STARTED", 1)
    with pytest.raises(StoreValueError):
        run.heartbeat_age_s(NOW)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        (
            "scheduled_end_ts",
            2**63 - 1,
            "`scheduled_end_ts`: expected epoch milliseconds in the years 2000",
        ),
        (
            "heartbeat_interval_s",
            0,
            "`heartbeat_interval_s`: expected whole seconds from 1 to 86400, got integer 0",
        ),
        ("heartbeat_interval_s", -10, "got integer -10"),
    ],
    ids=["end-int64-max", "interval-zero", "interval-negative"],
)
def test_an_implausible_run_schedule_is_a_payload_problem(tmp_path, field, value, problem):
    b = StoreBuilder(tmp_path / "events.sqlite", now_ms=NOW)
    payload = {
        "mode": "paper",
        "heartbeat_interval_s": 10,
        "scheduled_end_ts": NOW + HOUR,
        field: value,
    }
    b.run_started("r-1", payload=payload)
    with EventStore(b.write()) as store:
        [found] = store.payload_problems(["RUN_STARTED"])
    assert found.seq == 1 and problem in found.problem


def test_a_snapshot_nav_of_1e400_is_named_not_taken_as_the_peak(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite", now_ms=NOW)
    nav = {"nav": "1e400", "balance": "1", "unrealized_pl": "0", "margin_used": "0"}
    b.event("ACCOUNT_SNAPSHOT", ts=NOW - HOUR, account_id=ACCOUNT, payload=nav)
    with EventStore(b.write()) as store, pytest.raises(StoreValueError) as caught:
        store.nav_peak(ACCOUNT, NOW - 2 * HOUR)
    assert "ACCOUNT_SNAPSHOT seq 1: `nav`: expected a finite decimal number" in str(caught.value)


def test_a_stale_detection_with_a_text_heartbeat_time_is_named(tmp_path):
    b = healthy(tmp_path / "events.sqlite")
    b.event("STALE_DETECTED", run_id="r-1", payload={"last_heartbeat_ts": "an hour ago"})
    with (
        EventStore(b.write()) as store,
        pytest.raises(StoreValueError, match="STALE_DETECTED seq 6"),
    ):
        store.stale_detections(["r-1"])


def test_an_alert_without_an_id_is_named_not_dropped(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite", now_ms=NOW)
    b.event(
        "RECONCILIATION_ALERT", strategy_id="s-1", account_id=ACCOUNT, payload={"alert_id": None}
    )
    with EventStore(b.write()) as store, pytest.raises(StoreValueError, match="`alert_id`"):
        store.unresolved_alerts()


def test_a_run_seq_gap_is_found_and_a_text_run_seq_is_named(tmp_path):
    b = healthy(tmp_path / "events.sqlite")
    b.skip("r-1", 3).heartbeat("r-1")
    with EventStore(b.write()) as store:
        [gap] = store.gaps(["r-1"])
        assert (gap.missing_from, gap.missing_to) == (6, 8)
    _insert(b.path, ts=NOW, type="HEARTBEAT", run_id="r-1", run_seq="ten", payload="{}")
    with (
        EventStore(b.path) as store,
        pytest.raises(
            StoreValueError, match=r"`run_seq`: expected a positive integer, got text 'ten'"
        ),
    ):
        store.gaps(["r-1"])


def test_a_run_seq_below_one_is_named_for_the_runs_asked_about(tmp_path):
    b = healthy(tmp_path / "events.sqlite")
    b.heartbeat("r-1")
    _insert(b.write(), ts=NOW, type="HEARTBEAT", run_id="r-1", run_seq=0, payload="{}")
    with EventStore(b.path) as store:
        with pytest.raises(StoreValueError, match=r"expected a positive integer, got integer 0"):
            store.gaps(["r-1"])
        with pytest.raises(StoreValueError, match=r"got integer 0"):
            store.gaps()


def test_holes_in_the_global_seq_are_not_lost_events(tmp_path):
    b = healthy(tmp_path / "events.sqlite")
    path = b.write()
    _insert(path, seq=1000, ts=NOW, type="HEARTBEAT", run_id="r-1", run_seq=6, payload="{}")
    with EventStore(path) as store:
        assert store.gaps(["r-1"]) == []
        assert store.newest_event() == (1000, NOW)
