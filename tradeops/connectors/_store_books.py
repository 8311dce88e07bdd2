"""The store's books and shape: trade statistics, NAV snapshots, schema, append order.

A mixin for EventStore (which provides `_rows`): the facts layers 1 to 3 read beyond
the contract's derived facts. Each is one SQL aggregate through the contract's indexes;
payload fields are read through `field()`, which never raises on a malformed row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradeops.connectors._store_sql import field

_PL = field("realized_pl", "decimal")
_NAV = field("nav", "decimal")
_UNREALIZED = field("unrealized_pl", "decimal")

TRADE_STATS = f"""
WITH closed AS (
    SELECT seq, CAST({_PL} AS REAL) AS pl FROM events
    WHERE type = 'TRADE_CLOSED' AND ts >= :since AND strategy_id = :strategy
), curve AS (
    SELECT seq, pl, SUM(pl) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) AS cum
    FROM closed WHERE pl IS NOT NULL
), peaks AS (
    SELECT cum, MAX(MAX(cum, 0)) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING) AS peak FROM curve
)
SELECT
    (SELECT COUNT(*) FROM curve),
    (SELECT COUNT(*) FROM curve WHERE pl > 0),
    (SELECT COALESCE(SUM(pl), 0) FROM curve),
    (SELECT COUNT(DISTINCT ts / 86400000) FROM events
        WHERE type = 'RUN_STARTED' AND ts >= :since AND strategy_id = :strategy),
    (SELECT COALESCE(MAX(peak - cum), 0) FROM peaks)
"""

NAV_PEAK = f"""
SELECT MAX(CAST({_NAV} AS REAL)) FROM events
WHERE type = 'ACCOUNT_SNAPSHOT' AND ts >= :since AND account_id = :account
"""

SNAPSHOT_BEFORE = f"""
SELECT seq, ts, {_NAV}, {_UNREALIZED} FROM events
WHERE type = 'ACCOUNT_SNAPSHOT' AND ts < :before AND account_id = :account
    AND {_NAV} IS NOT NULL AND {_UNREALIZED} IS NOT NULL
ORDER BY ts DESC LIMIT 1
"""

REALIZED_PL = f"""
SELECT COALESCE(SUM({_PL}), 0), COUNT({_PL}) FROM events
WHERE type = 'TRADE_CLOSED' AND ts > :since AND account_id = :account
"""

# ts going back against seq: each event against the newest ts before it (running max).
TS_REGRESSIONS = """
SELECT seq, ts, prev FROM (
    SELECT seq, ts, MAX(ts) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        AS prev
    FROM (SELECT seq, ts FROM events ORDER BY seq DESC LIMIT :n)
)
WHERE prev - ts > :tolerance ORDER BY seq LIMIT 100
"""

ACTIVE_STRATEGIES = """
SELECT COUNT(DISTINCT strategy_id) FROM events WHERE type = 'RUN_STARTED' AND ts >= :since
"""

COLUMNS = "SELECT name, type FROM pragma_table_info('events')"
INDEXES = """
SELECT il.name, ii.name FROM pragma_index_list('events') AS il, pragma_index_info(il.name) AS ii
ORDER BY il.name, ii.seqno
"""


@dataclass(frozen=True)
class TradeStats:
    """A strategy's closed trades in a window: count, wins, P&L, days traded, worst drawdown."""

    trades: int
    wins: int
    total_pl: float
    days: int
    max_drawdown_pl: float  # peak-to-trough of the cumulative P&L, in account currency


@dataclass(frozen=True)
class Snapshot:
    """One ACCOUNT_SNAPSHOT: where it is (seq, ts) and the account's NAV then."""

    seq: int
    ts: int
    nav: Decimal
    unrealized_pl: Decimal


class StoreBooks:
    """Facts about money and shape, mixed into EventStore."""

    def _rows(self, query: str, params: Any = ()) -> list[tuple]:  # provided by EventStore
        raise NotImplementedError

    def trade_stats(self, strategy_id: str, since_ms: int) -> TradeStats:
        """The strategy's TRADE_CLOSED statistics since a time."""
        row = self._rows(TRADE_STATS, {"since": since_ms, "strategy": strategy_id})[0]
        return TradeStats(*row)

    def nav_peak(self, account_id: str, since_ms: int) -> Decimal | None:
        """The highest NAV in the account's snapshots since a time (None without any)."""
        value = self._rows(NAV_PEAK, {"since": since_ms, "account": account_id})[0][0]
        return None if value is None else Decimal(str(value))

    def snapshot_before(self, account_id: str, before_ms: int) -> Snapshot | None:
        """The account's newest snapshot strictly before a time."""
        rows = self._rows(SNAPSHOT_BEFORE, {"before": before_ms, "account": account_id})
        if not rows:
            return None
        seq, ts, nav, unrealized = rows[0]
        return Snapshot(seq, ts, Decimal(str(nav)), Decimal(str(unrealized)))

    def realized_pl(self, account_id: str, since_ms: int) -> Decimal:
        """Sum of the account's TRADE_CLOSED realized_pl after a time."""
        total, _ = self._rows(REALIZED_PL, {"since": since_ms, "account": account_id})[0]
        return Decimal(str(total))

    def active_strategies(self, since_ms: int) -> int:
        """How many strategies started a run since a time."""
        return self._rows(ACTIVE_STRATEGIES, {"since": since_ms})[0][0]

    def schema(self) -> tuple[dict[str, str], dict[str, list[str]]]:
        """The events table's columns (name -> declared type) and indexes (name -> columns)."""
        columns = {name: kind for name, kind in self._rows(COLUMNS)}
        indexes: dict[str, list[str]] = {}
        for index, column in self._rows(INDEXES):
            indexes.setdefault(index, []).append(column)
        return columns, indexes

    def ts_regressions(self, last_n: int, tolerance_ms: int) -> list[tuple[int, int, int]]:
        """(seq, ts, newest earlier ts) where ts goes back more than the tolerance."""
        return [
            tuple(r) for r in self._rows(TS_REGRESSIONS, {"n": last_n, "tolerance": tolerance_ms})
        ]
