"""The store's books and shape, hand-computed on small real WAL stores."""

from __future__ import annotations

import sqlite3
from decimal import Decimal

import pytest

from tests.storebuilder import ACCOUNT, NOW_MS, StoreBuilder
from tradeops.connectors.event_store import EventStore, StoreValueError

HOUR = 3_600_000


def closed(builder: StoreBuilder, run_id: str, pl: str, ts: int) -> None:
    builder.event(
        "TRADE_CLOSED",
        ts=ts,
        run_id=run_id,
        payload={"broker_trade_id": "7", "units": -1000, "realized_pl": pl},
    )


def test_trade_stats_count_wins_pl_days_and_the_worst_fall(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    b.run_started("r-1", ts=NOW_MS - 30 * HOUR)
    b.run_started("r-2", ts=NOW_MS - 4 * HOUR)
    # Cumulative P&L: 10, 4, -6, 9, 7 -> peak 10, trough -6: the worst fall is 16.
    for k, pl in enumerate(["10", "-6", "-10", "15", "-2"]):
        closed(b, "r-2", pl, NOW_MS - 3 * HOUR + k * 1000)
    stats = EventStore(b.write()).trade_stats("mr-eurusd-01", NOW_MS - 48 * HOUR)
    assert (stats.trades, stats.wins, stats.total_pl) == (5, 2, 7.0)
    assert stats.days == 2
    assert stats.max_drawdown_pl == 16.0


def test_trade_stats_ignore_other_strategies_and_old_trades(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    b.run_started("r-1", ts=NOW_MS - HOUR)
    b.run_started("r-9", strategy_id="tf-gbpusd-02", ts=NOW_MS - HOUR)
    closed(b, "r-1", "5", NOW_MS - 100 * HOUR)  # before the window
    closed(b, "r-9", "50", NOW_MS - 1000)  # another strategy
    b.event("TRADE_CLOSED", run_id="r-9", ts=NOW_MS - 900, payload="{not json")  # another's
    closed(b, "r-1", "-3", NOW_MS - 500)
    stats = EventStore(b.write()).trade_stats("mr-eurusd-01", NOW_MS - 2 * HOUR)
    assert (stats.trades, stats.wins, stats.total_pl, stats.max_drawdown_pl) == (1, 0, -3.0, 3.0)


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ("{not json", "payload is not valid JSON"),
        (
            {"realized_pl": "abc"},
            "`realized_pl`: expected a finite decimal number or decimal string, got text 'abc'",
        ),
        ({"realized_pl": "1e400"}, "got text '1e400'"),
        ({"units": 1}, "lacks `realized_pl`"),
    ],
    ids=["json", "text", "huge", "missing"],
)
def test_a_bad_closed_trade_in_the_window_is_named_not_summed(tmp_path, payload, problem):
    b = StoreBuilder(tmp_path / "events.sqlite")
    b.run_started("r-1", ts=NOW_MS - HOUR)
    closed(b, "r-1", "-3", NOW_MS - 600)
    b.event("TRADE_CLOSED", run_id="r-1", ts=NOW_MS - 500, payload=payload)
    store = EventStore(b.write())
    for figure in (
        lambda: store.trade_stats("mr-eurusd-01", NOW_MS - 2 * HOUR),
        lambda: store.realized_pl(ACCOUNT, NOW_MS - 2 * HOUR),
    ):
        with pytest.raises(StoreValueError, match=r"TRADE_CLOSED seq 3: ") as caught:
            figure()
        assert problem in str(caught.value)


def snapshot(b: StoreBuilder, nav: str, unrealized: str, ts: int) -> None:
    b.event(
        "ACCOUNT_SNAPSHOT",
        ts=ts,
        account_id=ACCOUNT,
        payload={"nav": nav, "balance": nav, "unrealized_pl": unrealized, "margin_used": "0"},
    )


def test_nav_peak_and_the_snapshot_before_a_time(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    snapshot(b, "100000.00", "0", NOW_MS - 50 * HOUR)
    snapshot(b, "104000.50", "12.5", NOW_MS - 20 * HOUR)
    snapshot(b, "99000.00", "-40", NOW_MS - 2 * HOUR)
    store = EventStore(b.write())
    assert store.nav_peak(ACCOUNT, NOW_MS - 30 * HOUR) == Decimal("104000.5")
    assert store.nav_peak(ACCOUNT, NOW_MS - HOUR) is None
    before = store.snapshot_before(ACCOUNT, NOW_MS - 10 * HOUR)
    assert (before.nav, before.unrealized_pl, before.ts) == (
        Decimal("104000.50"),
        Decimal("12.5"),
        NOW_MS - 20 * HOUR,
    )
    assert store.snapshot_before(ACCOUNT, NOW_MS - 60 * HOUR) is None


def test_realized_pl_sums_the_accounts_closed_trades_after_a_time(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    b.run_started("r-1", ts=NOW_MS - 5 * HOUR)
    closed(b, "r-1", "12.50", NOW_MS - 4 * HOUR)
    closed(b, "r-1", "-2.25", NOW_MS - 2 * HOUR)
    store = EventStore(b.write())
    assert store.realized_pl(ACCOUNT, NOW_MS - 3 * HOUR) == Decimal("-2.25")
    assert store.realized_pl(ACCOUNT, NOW_MS - 10 * HOUR) == Decimal("10.25")


def test_schema_lists_the_contracts_columns_and_indexes(tmp_path):
    store = EventStore(StoreBuilder(tmp_path / "events.sqlite").write())
    columns, indexes = store.schema()
    assert columns["seq"] == "INTEGER" and columns["payload"] == "TEXT"
    assert indexes["events_type_ts"] == ["type", "ts"]
    assert indexes["events_run"] == ["run_id", "run_seq"]


def test_a_dropped_index_is_gone_from_the_schema(tmp_path):
    path = StoreBuilder(tmp_path / "events.sqlite").write()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX events_type_ts")
    assert "events_type_ts" not in EventStore(path).schema()[1]


def test_a_timestamp_that_goes_back_is_named_by_its_seq(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    for ts in (1000, 2000, 3000, 1500, 3500, 3400):
        b.event("HEARTBEAT", ts=NOW_MS + ts)
    store = EventStore(b.write())
    assert store.ts_regressions(100, tolerance_ms=0) == [
        (4, NOW_MS + 1500, NOW_MS + 3000),
        (6, NOW_MS + 3400, NOW_MS + 3500),
    ]
    assert store.ts_regressions(100, tolerance_ms=1000) == [(4, NOW_MS + 1500, NOW_MS + 3000)]
    assert store.ts_regressions(2, tolerance_ms=0) == [(6, NOW_MS + 3400, NOW_MS + 3500)]


def test_the_lookback_is_the_last_events_not_the_last_seq_numbers(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    for ts in (3000, 1000, 5000, 9000, 4000):  # seq 1..5
        b.event("HEARTBEAT", ts=NOW_MS + ts)
    path = b.write()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM events WHERE seq = 4")  # a hole: the last two are 3 and 5
    store = EventStore(path)
    assert store.ts_regressions(2, tolerance_ms=0) == [(5, NOW_MS + 4000, NOW_MS + 5000)]
    assert store.ts_regressions(10, tolerance_ms=0) == [
        (2, NOW_MS + 1000, NOW_MS + 3000),
        (5, NOW_MS + 4000, NOW_MS + 5000),
    ]


def test_a_slow_slide_back_is_measured_against_the_newest_earlier_ts_not_the_previous(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    for ts in (3000, 2400, 1800):  # each step back 600 ms, 1,200 ms in all
        b.event("HEARTBEAT", ts=NOW_MS + ts)
    store = EventStore(b.write())
    assert store.ts_regressions(100, tolerance_ms=1000) == [(3, NOW_MS + 1800, NOW_MS + 3000)]


def test_a_ts_that_is_not_an_integer_is_not_measured_and_not_a_measure(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    for ts in (1000, 9_000_000, 2000):
        b.event("HEARTBEAT", ts=NOW_MS + ts)
    path = b.write()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET ts = 'soon' WHERE seq = 2")
    assert EventStore(path).ts_regressions(100, tolerance_ms=0) == []


def test_at_most_a_hundred_regressions_are_named_the_oldest_first(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    b.event("HEARTBEAT", ts=NOW_MS + 10_000)
    for k in range(150):
        b.event("HEARTBEAT", ts=NOW_MS + k)
    found = EventStore(b.write()).ts_regressions(1000, tolerance_ms=0)
    assert len(found) == 100
    assert found[0] == (2, NOW_MS, NOW_MS + 10_000) and found[-1][0] == 101
