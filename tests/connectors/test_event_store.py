"""EventStore against real SQLite files: derived facts, operator errors, and harmlessness."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.storebuilder import ACCOUNT, NOW_MS, StoreBuilder
from tradeops.connectors.errors import EventStoreError, StoreValueError
from tradeops.connectors.event_store import EventStore, Gap, Heartbeat

NOW = NOW_MS
HOUR = 3_600_000
OTHER = "101-004-1234567-002"


@pytest.fixture
def builder(tmp_path: Path) -> StoreBuilder:
    return StoreBuilder(tmp_path / "events.sqlite", now_ms=NOW)


def _open(path: Path, **kwargs: float) -> EventStore:
    return EventStore(path, **kwargs)


# -- derived facts -------------------------------------------------------------------


def test_live_and_residual_runs_are_told_apart(builder: StoreBuilder) -> None:
    yesterday = NOW - 24 * HOUR
    builder.run_started("r-live", ts=NOW - HOUR).heartbeats("r-live", count=3)
    builder.run_started("r-left", ts=yesterday, scheduled_end_ts=yesterday + 8 * HOUR)
    builder.heartbeats("r-left", count=2)
    builder.run_started("r-done", ts=yesterday, scheduled_end_ts=yesterday + 8 * HOUR)
    builder.run_ended("r-done", "completed")
    builder.run_started("r-stopped-early", ts=NOW - HOUR).run_ended("r-stopped-early", "aborted")
    with _open(builder.write()) as store:
        assert [r.run_id for r in store.live_runs(NOW)] == ["r-live"]
        assert [r.run_id for r in store.residual_runs(NOW)] == ["r-left"]


def test_unended_runs_are_the_live_and_the_residual_ones_read_at_once(builder: StoreBuilder):
    yesterday = NOW - 24 * HOUR
    builder.run_started("r-live", ts=NOW - HOUR).heartbeats("r-live", count=3)
    builder.run_started("r-left", ts=yesterday, scheduled_end_ts=yesterday + 8 * HOUR)
    builder.run_started("r-due-now", ts=NOW - HOUR, scheduled_end_ts=NOW)  # live until after
    builder.run_started("r-done", ts=yesterday).run_ended("r-done", "completed")
    builder.run_started("r-no-end", ts=NOW - HOUR, payload={"mode": "paper"})  # in neither
    with _open(builder.write()) as store:
        live, residual = store.unended_runs(NOW)
        assert (live, residual) == (store.live_runs(NOW), store.residual_runs(NOW))
    assert [r.run_id for r in live] == ["r-live", "r-due-now"]
    assert [r.run_id for r in residual] == ["r-left"]


def test_a_run_carries_its_start_its_end_and_its_newest_heartbeat(builder: StoreBuilder) -> None:
    builder.run_started("r-1", ts=NOW - HOUR, heartbeat_interval_s=5, mode="live")
    builder.heartbeats("r-1", count=4).run_ended("r-1", "failed", reason="broker lost")
    builder.run_started("r-2")
    with _open(builder.write()) as store:
        run = store.run("r-1")
        fresh = store.run("r-2")
        unknown = store.run("r-nope")
    assert run is not None and fresh is not None
    assert (run.mode, run.heartbeat_interval_s, run.started_ts, run.started_seq) == (
        "live",
        5,
        NOW - HOUR,
        1,
    )
    assert run.reached_end and run.end_status == "failed"
    assert run.last_heartbeat == Heartbeat(NOW - HOUR + 4 * 5000, 5)
    assert not fresh.reached_end and fresh.last_heartbeat is None
    assert unknown is None


def test_last_heartbeats_answer_only_for_runs_that_sent_one(builder: StoreBuilder) -> None:
    builder.run_started("r-1", ts=NOW - HOUR).heartbeats("r-1", count=3)
    builder.run_started("r-2", ts=NOW - HOUR, account_id=OTHER).heartbeats("r-2", count=1)
    builder.event("SIGNAL", run_id="r-1", ts=NOW, payload={"side": "buy", "strength": 0.7})
    builder.run_started("r-silent")
    with _open(builder.write()) as store:
        found = store.last_heartbeats(["r-1", "r-2", "r-silent", "r-unknown"])
    # The SIGNAL after r-1's last heartbeat is not a heartbeat.
    assert found == {
        "r-1": Heartbeat(NOW - HOUR + 30_000, 4),
        "r-2": Heartbeat(NOW - HOUR + 10_000, 6),
    }


def test_gaps_name_the_missing_run_seq_and_the_event_after_the_hole(
    builder: StoreBuilder,
) -> None:
    builder.run_started("r-1").heartbeats("r-1", count=2).skip("r-1", 3).heartbeat("r-1")
    builder.skip("r-1").heartbeat("r-1")
    builder.run_started("r-2", strategy_id="trend-gbpusd-02").heartbeats("r-2", count=3)
    builder.run_started("r-3", strategy_id="carry-audjpy-03")
    builder.event("HEARTBEAT", run_id="r-3", run_seq=1)  # a duplicate run_seq is not a gap
    with _open(builder.write()) as store:
        seq_of = dict(store._rows("SELECT run_seq, seq FROM events WHERE run_id = 'r-1'"))
        gaps = store.gaps()
        only_r2 = store.gaps(["r-2"])
    assert gaps == [
        Gap("r-1", "mr-eurusd-01", ACCOUNT, 4, 6, seq_of[7]),
        Gap("r-1", "mr-eurusd-01", ACCOUNT, 8, 8, seq_of[9]),
    ]
    assert gaps[0].missing == 3
    assert only_r2 == []


def test_a_run_that_lost_its_first_events_has_a_gap_from_one(builder: StoreBuilder) -> None:
    builder.event("HEARTBEAT", run_id="r-9", run_seq=3, strategy_id="s-9")
    builder.event("HEARTBEAT", run_id="r-9", run_seq=4, strategy_id="s-9")
    with _open(builder.write()) as store:
        assert [(g.missing_from, g.missing_to, g.seq_after) for g in store.gaps(["r-9"])] == [
            (1, 2, 1)
        ]


def test_stale_detections_filter_by_run_and_by_time(builder: StoreBuilder) -> None:
    builder.run_started("r-1").run_started("r-2", strategy_id="s-2")
    builder.event(
        "STALE_DETECTED", run_id="r-1", ts=NOW - 10, payload={"last_heartbeat_ts": NOW - 1}
    )
    builder.event(
        "STALE_DETECTED", run_id="r-2", ts=NOW + 10, payload={"last_heartbeat_ts": NOW - 2}
    )
    with _open(builder.write()) as store:
        assert [d.last_heartbeat_ts for d in store.stale_detections()] == [NOW - 1, NOW - 2]
        assert [d.run_id for d in store.stale_detections(["r-2"])] == ["r-2"]
        assert [d.run_id for d in store.stale_detections(since_ms=NOW)] == ["r-2"]
        assert store.stale_detections(["r-1"], since_ms=NOW) == []
        with pytest.raises(TypeError, match="since_ms"):
            store.stale_detections(NOW)  # type: ignore[arg-type]


def test_a_promote_gate_is_pending_until_decided(builder: StoreBuilder) -> None:
    builder.promote_requested("g-1").promote_requested("g-2", "trend-gbpusd-02")
    builder.promote_decided("g-1", approved=False)
    with _open(builder.write()) as store:
        gates = store.pending_gates()
    assert [(g.gate_id, g.strategy_id, g.seq) for g in gates] == [("g-2", "trend-gbpusd-02", 2)]


def test_a_reconciliation_alert_is_unresolved_until_resolved(builder: StoreBuilder) -> None:
    builder.alert("a-1").alert("a-2", "trend-gbpusd-02").alert("a-1", resolved=True)
    with _open(builder.write()) as store:
        alerts = store.unresolved_alerts()
    assert [(a.alert_id, a.strategy_id, a.account_id) for a in alerts] == [
        ("a-2", "trend-gbpusd-02", ACCOUNT)
    ]


def test_net_positions_sum_fill_units_per_account_and_instrument(builder: StoreBuilder) -> None:
    builder.run_started("r-1").fill("r-1", 1000).fill("r-1", -300)
    builder.run_started("r-2", instrument="USD_JPY").fill("r-2", -50)
    builder.run_started("r-3", account_id=OTHER).fill("r-3", 20).fill("r-3", -20)
    builder.event("ORDER_SUBMITTED", run_id="r-1", payload={"client_order_id": "c", "units": 9})
    with _open(builder.write()) as store:
        assert store.net_positions() == {
            (ACCOUNT, "EUR_USD"): 700,
            (ACCOUNT, "USD_JPY"): -50,
            (OTHER, "EUR_USD"): 0,
        }


def test_a_malformed_payload_is_named_by_its_seq(builder: StoreBuilder) -> None:
    builder.run_started("r-1").fill("r-1", 10)
    builder.event("ORDER_FILLED", run_id="r-1", payload="{units: 10")
    builder.event("ORDER_FILLED", run_id="r-1", payload="[1, 2]")
    builder.event("ORDER_FILLED", run_id="r-1", payload={"client_order_id": "c", "units": 1.5})
    builder.event("RUN_STARTED", run_id="r-2", payload={"mode": "paper"})
    builder.event("HEARTBEAT", run_id="r-1", payload="not json")
    with _open(builder.write()) as store:
        problems = store.payload_problems(["ORDER_FILLED", "RUN_STARTED"])
        since = store.payload_problems(["HEARTBEAT"], since_ms=NOW + 1)
    assert [(p.seq, p.type, p.run_id) for p in problems] == [
        (3, "ORDER_FILLED", "r-1"),
        (4, "ORDER_FILLED", "r-1"),
        (5, "ORDER_FILLED", "r-1"),
        (6, "RUN_STARTED", "r-2"),
    ]
    assert problems[0].problem == "payload is not valid JSON"
    assert problems[1].problem == "payload is not a JSON object"
    assert problems[2].problem == (
        "lacks `broker_transaction_id`; `units`: expected an integer, got real 1.5; lacks `price`"
    )
    assert problems[3].problem == "lacks `heartbeat_interval_s`; lacks `scheduled_end_ts`"
    assert since == []


def test_every_helper_names_a_malformed_row_instead_of_crashing_or_skipping_it(
    builder: StoreBuilder,
) -> None:
    builder.run_started("r-ok").heartbeats("r-ok", count=2).fill("r-ok", 5)
    bad_types = (
        "RUN_STARTED",
        "RUN_ENDED",
        "ORDER_FILLED",
        "STALE_DETECTED",
        "PROMOTE_REQUESTED",
        "PROMOTE_DECIDED",
        "RECONCILIATION_ALERT",
        "RECONCILIATION_ALERT_RESOLVED",
    )
    for index, kind in enumerate(bad_types):
        builder.event(kind, run_id=f"r-bad-{index}", run_seq=1, payload="{oops")
    builder.event("ORDER_FILLED", run_id="r-ok", payload={"units": "5"})  # a string
    seq = {kind: 5 + i for i, kind in enumerate(bad_types)}
    with _open(builder.write()) as store:
        # A RUN_STARTED without a schedule is neither live nor residual: payload_problems
        # names it (the pre-flight checks report it).
        assert [r.run_id for r in store.live_runs(NOW)] == ["r-ok"]
        assert store.residual_runs(NOW) == []
        for helper, kind in (
            (store.stale_detections, "STALE_DETECTED"),
            (store.pending_gates, "PROMOTE_REQUESTED"),
            (store.unresolved_alerts, "RECONCILIATION_ALERT"),
        ):
            with pytest.raises(StoreValueError) as caught:
                helper()
            assert (caught.value.seq, caught.value.type) == (seq[kind], kind)
            assert str(caught.value).endswith(f"{kind} seq {seq[kind]}: payload is not valid JSON")
        position = store.net_positions()[(ACCOUNT, "EUR_USD")]
        assert isinstance(position, StoreValueError)
        assert (position.seq, position.field) == (13, "units")
        assert "`units`: expected an integer, got text '5'" in str(position)
        assert len(store.payload_problems(list(bad_types))) == len(bad_types) + 1


def test_a_broken_run_ended_payload_still_ends_the_run(builder: StoreBuilder) -> None:
    yesterday = NOW - 24 * HOUR
    builder.run_started("r-1", ts=yesterday, scheduled_end_ts=yesterday + HOUR)
    builder.event("RUN_ENDED", run_id="r-1", payload="{truncated")
    with _open(builder.write()) as store:
        run = store.run("r-1")
        assert store.residual_runs(NOW) == []
    assert run is not None and run.reached_end and run.end_status is None


def test_journal_mode_is_read_from_the_file(tmp_path: Path) -> None:
    wal = StoreBuilder(tmp_path / "wal.sqlite").run_started("r-1").write()
    rollback = StoreBuilder(tmp_path / "del.sqlite", journal_mode="delete").write()
    with _open(wal) as a, _open(rollback) as b:
        assert (a.journal_mode(), b.journal_mode()) == ("wal", "delete")


def test_newest_event_and_counts(builder: StoreBuilder, tmp_path: Path) -> None:
    builder.run_started("r-1", ts=NOW - 20_000).heartbeats("r-1", count=2)
    empty = StoreBuilder(tmp_path / "empty.sqlite").write()
    with _open(builder.write()) as store, _open(empty) as nothing:
        assert store.newest_event() == (3, NOW)
        assert (store.count_events(), store.count_events(since_ms=NOW - 10_000)) == (3, 2)
        assert nothing.newest_event() is None and nothing.count_events() == 0


def test_threads_can_share_one_store(builder: StoreBuilder) -> None:
    builder.run_started("r-1").heartbeats("r-1", count=50).skip("r-1").heartbeat("r-1")
    store = _open(builder.write())
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(30):
                assert len(store.live_runs(NOW)) == 1
                assert len(store.gaps()) == 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    store.close()
    assert errors == []


# -- harmlessness ----------------------------------------------------------------------


def test_the_connection_cannot_write(builder: StoreBuilder) -> None:
    path = builder.run_started("r-1").write()
    with _open(path) as store:
        store.count_events()
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store._connection().execute("INSERT INTO events (ts, type) VALUES (1, 'X')")
        with pytest.raises(EventStoreError, match="cannot read the event store"):
            store._rows("DELETE FROM events")
        assert store.count_events() == 1


def test_reading_every_fact_leaves_the_file_unchanged(builder: StoreBuilder) -> None:
    path = builder.run_started("r-1").heartbeats("r-1", count=3).write()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with _open(path) as store:
        store.journal_mode(), store.live_runs(NOW), store.residual_runs(NOW), store.gaps()
        store.pending_gates(), store.unresolved_alerts(), store.net_positions()
        store.payload_problems(["RUN_STARTED", "HEARTBEAT"]), store.newest_event()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


_WRITER = """
import json, sqlite3, sys
path, count = sys.argv[1], int(sys.argv[2])
# busy timeout 0: if a reader ever blocked this writer, the INSERT would fail at once.
conn = sqlite3.connect(path, timeout=0, isolation_level=None)
errors = []
for i in range(count):
    try:
        conn.execute(
            "INSERT INTO events (ts, type, run_id, run_seq, payload) "
            "VALUES (?, 'HEARTBEAT', 'r-w', ?, '{}')", (1795000000000 + i, i + 2))
    except sqlite3.Error as exc:
        errors.append(str(exc))
    if i == 0:
        print("STARTED", flush=True)
conn.close()
print(json.dumps({"errors": errors}), flush=True)
"""


def test_reading_while_another_process_writes_never_blocks_it(builder: StoreBuilder) -> None:
    path = builder.run_started("r-w", ts=NOW).write()
    store = _open(path)
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), "3000"], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    try:
        assert writer.stdout.readline().strip() == "STARTED"
        seen = []
        for _ in range(2000):  # bounded: the writer normally finishes well before
            seen.append(store.newest_event()[0])  # type: ignore[index]
            store.live_runs(NOW)
            store.gaps(["r-w"])
            if writer.poll() is not None:
                break
        report = json.loads(writer.stdout.readline())
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        writer.stdout.close()
    assert report["errors"] == []
    assert writer.returncode == 0
    assert seen == sorted(seen) and seen[-1] > seen[0]  # every read saw a newer snapshot
    assert store.count_events() == 3001
    assert store.gaps(["r-w"]) == []
    store.close()


# -- errors an operator can act on -------------------------------------------------------


def test_a_missing_file_is_a_clear_error_and_opening_is_lazy(tmp_path: Path) -> None:
    store = EventStore(tmp_path / "nope.sqlite")  # constructing touches nothing
    with pytest.raises(EventStoreError, match=r"^no event store at .*nope\.sqlite$"):
        store.live_runs(NOW)
    assert not (tmp_path / "nope.sqlite").exists()


def test_a_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EventStoreError, match="is a directory"):
        EventStore(tmp_path).journal_mode()


def test_a_text_file_is_not_an_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite"
    path.write_text("seq,ts,type\n" * 100)
    with pytest.raises(EventStoreError) as caught:
        EventStore(path).count_events()
    assert str(caught.value) == f"{path} is not an SQLite database"


def test_an_sqlite_file_without_events_is_not_the_event_store(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE trades (id INTEGER)")
    conn.close()
    message = f"{path} has no `events` table: is this the platform's event store?"
    with pytest.raises(EventStoreError) as caught:
        EventStore(path).count_events()
    assert str(caught.value) == message


def test_an_events_table_without_the_contract_columns_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, ts INTEGER, kind TEXT)")
    conn.close()
    with pytest.raises(EventStoreError, match=r"lacks column\(s\) type, run_id"):
        EventStore(path).count_events()


def test_a_corrupt_file_is_named_corrupt(builder: StoreBuilder) -> None:
    builder.run_started("r-1").heartbeats("r-1", count=3000)
    path = builder.write()
    data = bytearray(path.read_bytes())
    page = 4096
    # Keep page 1 (header and schema) intact; scribble over every other page.
    data[page:] = b"\xa5" * (len(data) - page)
    path.write_bytes(bytes(data))
    with pytest.raises(EventStoreError, match=r"is corrupt \(database disk image is malformed\)"):
        EventStore(path).count_events()


def test_a_truncated_file_is_named_corrupt(builder: StoreBuilder) -> None:
    builder.run_started("r-1").heartbeats("r-1", count=3000)
    path = builder.write()
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size // 2)
    with pytest.raises(EventStoreError, match=r"is corrupt \(database disk image is malformed\)"):
        EventStore(path).live_runs(NOW)


_LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("LOCKED", flush=True)
sys.stdin.read()  # hold the lock until the test closes our stdin
"""


def test_a_store_locked_past_the_busy_timeout_is_a_clear_error(tmp_path: Path) -> None:
    path = StoreBuilder(tmp_path / "events.sqlite", journal_mode="delete").run_started("r").write()
    locker = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert locker.stdin is not None and locker.stdout is not None
    try:
        assert locker.stdout.readline().strip() == "LOCKED"
        store = EventStore(path, busy_timeout_s=0.3)
        with pytest.raises(EventStoreError) as caught:
            store.count_events()
        assert str(caught.value) == f"{path} stayed locked for more than 0.3 s"
    finally:
        locker.stdin.close()
        locker.wait(timeout=10)
        locker.stdout.close()
    assert store.count_events() == 1  # the same store reads again once the lock is gone
    store.close()
