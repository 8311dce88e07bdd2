"""The grouped per-strategy facts give exactly what the per-strategy helpers give."""

from __future__ import annotations

import pytest

from tests.connectors.test_store_books import HOUR, closed
from tests.storebuilder import NOW_MS, StoreBuilder
from tradeops.connectors._store_facts import (
    NO_TRADES,
    by_run,
    by_strategy,
    trade_stats_by_strategy,
)
from tradeops.connectors.errors import StoreValueError
from tradeops.connectors.event_store import EventStore

OTHER = "tf-gbpusd-02"


def _mixed_store(tmp_path) -> EventStore:
    b = StoreBuilder(tmp_path / "events.sqlite")
    b.run_started("r-1", ts=NOW_MS - 30 * HOUR)
    b.run_started("r-2", ts=NOW_MS - 4 * HOUR)
    b.run_started("r-9", strategy_id=OTHER, ts=NOW_MS - 5 * HOUR)
    b.run_started("r-old", strategy_id="quiet-01", ts=NOW_MS - 100 * HOUR)
    b.run_started("r-idle", strategy_id="idle-01", ts=NOW_MS - 2 * HOUR)
    for k, pl in enumerate(["10", "-6", "-10", "15", "-2"]):
        closed(b, "r-2", pl, NOW_MS - 3 * HOUR + k * 1000)
        closed(b, "r-9", str(-3 * k + 4), NOW_MS - 3 * HOUR + k * 1000 + 500)
    closed(b, "r-old", "5", NOW_MS - 99 * HOUR)  # before the window
    closed(b, "r-1", "-3", NOW_MS - 500)
    return EventStore(b.write())


def test_grouped_trade_stats_equal_the_per_strategy_ones(tmp_path):
    store = _mixed_store(tmp_path)
    since = NOW_MS - 48 * HOUR
    grouped = trade_stats_by_strategy(store, since)
    for strategy in ("mr-eurusd-01", OTHER, "quiet-01", "idle-01", "never-ran"):
        assert grouped.get(strategy, NO_TRADES) == store.trade_stats(strategy, since), strategy


def test_a_strategy_with_runs_but_no_trades_keeps_its_days(tmp_path):
    stats = trade_stats_by_strategy(_mixed_store(tmp_path), NOW_MS - 48 * HOUR)
    assert stats["idle-01"] == NO_TRADES.__class__(0, 0, 0, 1, 0)
    assert "quiet-01" not in stats


def test_grouping_keeps_store_order_per_key(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    b.promote_requested("g-1").promote_requested("g-2", strategy_id=OTHER)
    b.promote_requested("g-3")
    gates = by_strategy(EventStore(b.write()).pending_gates())
    assert [g.gate_id for g in gates["mr-eurusd-01"]] == ["g-1", "g-3"]
    assert [g.gate_id for g in gates[OTHER]] == ["g-2"]


def test_grouped_gaps_equal_the_per_run_ones(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    b.run_started("r-1").heartbeats("r-1", count=2).skip("r-1", 2).heartbeats("r-1", count=2)
    b.run_started("r-2", strategy_id=OTHER).heartbeats("r-2", count=3)
    b.run_started("r-3").skip("r-3").heartbeats("r-3", count=1)
    store = EventStore(b.write())
    grouped = by_run(store.gaps(["r-1", "r-2", "r-3"]))
    for run_id in ("r-1", "r-2", "r-3"):
        assert grouped.get(run_id, []) == store.gaps([run_id]), run_id


def test_a_bad_row_gives_that_strategy_the_error_trade_stats_raises(tmp_path):
    b = StoreBuilder(tmp_path / "events.sqlite")
    b.run_started("r-1", ts=NOW_MS - HOUR).run_started("r-9", strategy_id=OTHER, ts=NOW_MS - HOUR)
    closed(b, "r-1", "5", NOW_MS - 2000)
    b.event("TRADE_CLOSED", ts=NOW_MS - 1000, run_id="r-1", payload="{not json")
    closed(b, "r-9", "7", NOW_MS - 900)
    store = EventStore(b.write())
    since = NOW_MS - 2 * HOUR
    grouped = trade_stats_by_strategy(store, since)
    with pytest.raises(StoreValueError) as raised:
        store.trade_stats("mr-eurusd-01", since)
    assert isinstance(grouped["mr-eurusd-01"], StoreValueError)
    assert str(grouped["mr-eurusd-01"]) == str(raised.value)
    assert grouped[OTHER] == store.trade_stats(OTHER, since)
