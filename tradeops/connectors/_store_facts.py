"""Per-strategy facts read once for every strategy: one grouped query each, looked up later.

Layer 2 runs its checks once per scheduled strategy. Asking the store once per strategy
walks every strategy's rows each time (the cost grows with the square of the platform's
size); these helpers read a fact for all strategies (or all given runs) in one statement
through the contract's indexes and return a mapping the checks look up. Each takes an
EventStore and reads through its read-only connection (`_rows`: the lock, `query_only`,
the operator-worded errors), and gives exactly what the per-strategy helper gives.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, TypeVar

from tradeops.connectors._store_books import TradeStats
from tradeops.connectors._store_sql import field, row_problem, ts_problem
from tradeops.connectors.errors import StoreValueError

if TYPE_CHECKING:
    from tradeops.connectors.event_store import EventStore

T = TypeVar("T")

_PL = field("realized_pl", "decimal")

# The same figures as _store_books.TRADE_STATS, partitioned by strategy: one walk of the
# window's TRADE_CLOSED rows (events_type_ts) instead of one per strategy.
TRADE_STATS_BY_STRATEGY = f"""
WITH closed AS (
    SELECT strategy_id, seq, CAST({_PL} AS REAL) AS pl FROM events
    WHERE type = 'TRADE_CLOSED' AND ts >= :since AND strategy_id IS NOT NULL
), curve AS (
    SELECT strategy_id, seq, pl,
           SUM(pl) OVER (PARTITION BY strategy_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS cum
    FROM closed WHERE pl IS NOT NULL
), peaks AS (
    SELECT strategy_id, pl, cum,
           MAX(MAX(cum, 0)) OVER (PARTITION BY strategy_id ORDER BY seq
                                  ROWS UNBOUNDED PRECEDING) AS peak
    FROM curve
)
SELECT strategy_id, COUNT(*), SUM(pl > 0), COALESCE(SUM(pl), 0), COALESCE(MAX(peak - cum), 0)
FROM peaks GROUP BY strategy_id
"""

DAYS_BY_STRATEGY = """
SELECT strategy_id, COUNT(DISTINCT ts / 86400000) FROM events
WHERE type = 'RUN_STARTED' AND ts >= :since AND strategy_id IS NOT NULL
GROUP BY strategy_id
"""

# The first bad TRADE_CLOSED row per strategy (as _store_books' _CLOSED_BAD, grouped): a
# strategy with one gets its StoreValueError, never figures computed without that row.
FIRST_BAD_CLOSED_BY_STRATEGY = f"""
SELECT strategy_id, MIN(seq), problem FROM (
  SELECT strategy_id, seq,
         coalesce({ts_problem()}, {row_problem((("realized_pl", "decimal"),))}) AS problem
  FROM events WHERE type = 'TRADE_CLOSED' AND ts >= :since AND strategy_id IS NOT NULL
) WHERE problem != '' GROUP BY strategy_id
"""

NO_TRADES = TradeStats(0, 0, 0.0, 0, 0)


def trade_stats_by_strategy(
    store: EventStore, since_ms: int
) -> dict[str, TradeStats | StoreValueError]:
    """strategy id -> its TRADE_CLOSED statistics since a time (as `store.trade_stats`),
    or the StoreValueError `store.trade_stats` would raise for it (a bad row): raise it.

    A strategy absent from the mapping has no closed trade and no run in the window:
    look it up with `.get(strategy_id, NO_TRADES)`.
    """
    params = {"since": since_ms}
    bad = {
        strategy: StoreValueError(store.path, seq, "TRADE_CLOSED", _field_of(problem), problem)
        for strategy, seq, problem in store._rows(
            FIRST_BAD_CLOSED_BY_STRATEGY, store._checked(params)
        )
    }
    days = dict(store._rows(DAYS_BY_STRATEGY, params))
    stats = {
        strategy: TradeStats(trades, wins, total, days.get(strategy, 0), drawdown)
        for strategy, trades, wins, total, drawdown in store._rows(TRADE_STATS_BY_STRATEGY, params)
    }
    for strategy, traded_days in days.items():
        stats.setdefault(strategy, TradeStats(0, 0, 0, traded_days, 0))
    return {**stats, **bad}


def _field_of(problem: str) -> str:
    """The field a problem text names (as EventStore._raise reads it)."""
    return problem.split("`")[1] if "`" in problem else "payload"


def by_strategy(records: list[T]) -> dict[str | None, list[T]]:
    """Records that carry a `strategy_id`, grouped by it (store order kept)."""
    grouped: dict[str | None, list[T]] = defaultdict(list)
    for record in records:
        grouped[record.strategy_id].append(record)  # type: ignore[attr-defined]
    return dict(grouped)


def by_run(records: list[T]) -> dict[str | None, list[T]]:
    """Records that carry a `run_id`, grouped by it (store order kept)."""
    grouped: dict[str | None, list[T]] = defaultdict(list)
    for record in records:
        grouped[record.run_id].append(record)  # type: ignore[attr-defined]
    return dict(grouped)
