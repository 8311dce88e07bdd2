"""The store's books and shape: trade statistics, NAV snapshots, schema, append order.

A mixin for EventStore (which provides `_rows`): the facts layers 1 to 3 read beyond
the contract's derived facts. Each is one SQL aggregate through the contract's indexes;
payload fields are read through `field()`, which never raises on a malformed row; and
before a figure is summed, the rows it sums are searched for one whose ts or field is
unusable (`first_problem_sql`): a figure is never quietly computed without a bad row.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradeops._record import frozen_record
from tradeops.connectors._store_sql import MIN_MS, field, first_problem_sql, ts_problem

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
ORDER BY ts DESC LIMIT 1
"""

# The rows each figure reads, searched for a bad one first.
_PL_FIELD = (("realized_pl", "decimal"),)
_CLOSED_BAD = first_problem_sql(
    "TRADE_CLOSED", _PL_FIELD, "ts >= :since AND strategy_id = :strategy"
)
_SNAPSHOTS_BAD = first_problem_sql(
    "ACCOUNT_SNAPSHOT", (("nav", "decimal"),), "ts >= :since AND account_id = :account"
)
_ONE_SNAPSHOT_BAD = first_problem_sql(
    "ACCOUNT_SNAPSHOT", (("nav", "decimal"), ("unrealized_pl", "decimal")), "seq = :seq"
)
_PL_BAD = first_problem_sql("TRADE_CLOSED", _PL_FIELD, "ts > :since AND account_id = :account")

# Events whose ts is no time at all, before 2000, or in the future: through events_ts
# (text and blobs sort after every number, NULL before).
# Three ranges of events_ts, then the rows by seq: written as one OR, SQLite would scan
# the table (or an index) from end to end to keep them in seq order.
BAD_TIMESTAMPS = f"""
SELECT seq, type, {ts_problem()} FROM events WHERE seq IN (
  SELECT seq FROM events WHERE ts IS NULL
  UNION ALL SELECT seq FROM events WHERE ts < {MIN_MS}
  UNION ALL SELECT seq FROM events WHERE ts > :max_ts
) ORDER BY seq LIMIT :n
"""

REALIZED_PL = f"""
SELECT COALESCE(SUM({_PL}), 0), COUNT({_PL}) FROM events
WHERE type = 'TRADE_CLOSED' AND ts > :since AND account_id = :account
"""

# ts going back against seq: each of the last :n events against the newest ts before it
# (running max). They are the events after the (n+1)-th newest seq (all, in a shorter
# store), read in seq order: the window function then needs no sort (15% of the query).
_LAST_N = """seq > coalesce(
        (SELECT seq FROM events ORDER BY seq DESC LIMIT 1 OFFSET :n),
        (SELECT MIN(seq) - 1 FROM events)
    )"""
TS_REGRESSIONS = f"""
SELECT seq, ts, prev FROM (
    SELECT seq, ts, MAX(ts) OVER (ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
        AS prev
    FROM events
    WHERE {_LAST_N} AND typeof(ts) = 'integer'
)
WHERE prev - ts > :tolerance ORDER BY seq LIMIT 100
"""
# The window function costs nearly all of that. Where each of the last n events but the
# newest has the next seq among them, an event's distance below the newest ts before it
# is at most the sum of the steps back between neighbours (a value the window function
# leaves out, such as a text ts, only adds steps), so when all the steps back add up to
# no more than the tolerance, none goes back by more: one pass over the neighbours (a
# quarter of the window function's time) decides, and the window function runs only when
# it cannot. A NULL ts counts as an endless step back.
TS_STEPS_BACK = f"""
SELECT COUNT(b.seq) = COUNT(*) - 1 AND TOTAL(
    CASE WHEN b.seq IS NULL THEN 0 ELSE coalesce(MAX(a.ts - b.ts, 0), 1e300) END
) <= :tolerance
FROM events a LEFT JOIN events b ON b.seq = a.seq + 1
WHERE a.{_LAST_N}
"""

ACTIVE_STRATEGIES = """
SELECT COUNT(DISTINCT strategy_id) FROM events WHERE type = 'RUN_STARTED' AND ts >= :since
"""

COLUMNS = "SELECT name, type FROM pragma_table_info('events')"
INDEXES = """
SELECT il.name, ii.name FROM pragma_index_list('events') AS il, pragma_index_info(il.name) AS ii
ORDER BY il.name, ii.seqno
"""


@frozen_record
class TradeStats:
    """A strategy's closed trades in a window: count, wins, P&L, days traded, worst drawdown."""

    trades: int
    wins: int
    total_pl: float
    days: int
    max_drawdown_pl: float  # peak-to-trough of the cumulative P&L, in account currency


@frozen_record
class Snapshot:
    """One ACCOUNT_SNAPSHOT: where it is (seq, ts) and the account's NAV then."""

    seq: int
    ts: int
    nav: Decimal
    unrealized_pl: Decimal


class StoreBooks:
    """Facts about money and shape, mixed into EventStore."""

    # provided by EventStore
    def _rows(self, query: str, params: Any = ()) -> list[tuple]:
        raise NotImplementedError

    def _checked(self, params: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _raise(self, seq: int, kind: str, problem: str | None) -> None:
        raise NotImplementedError

    def _refuse_bad(self, query: str, kind: str, params: dict[str, Any]) -> None:
        """Raise StoreValueError for the first bad row `query` finds; nothing if none."""
        for seq, problem in self._rows(query, self._checked(params)):
            self._raise(seq, kind, problem)

    def trade_stats(self, strategy_id: str, since_ms: int) -> TradeStats:
        """The strategy's TRADE_CLOSED statistics since a time."""
        params = {"since": since_ms, "strategy": strategy_id}
        self._refuse_bad(_CLOSED_BAD, "TRADE_CLOSED", params)
        return TradeStats(*self._rows(TRADE_STATS, params)[0])

    def nav_peak(self, account_id: str, since_ms: int) -> Decimal | None:
        """The highest NAV in the account's snapshots since a time (None without any)."""
        params = {"since": since_ms, "account": account_id}
        self._refuse_bad(_SNAPSHOTS_BAD, "ACCOUNT_SNAPSHOT", params)
        value = self._rows(NAV_PEAK, params)[0][0]
        return None if value is None else Decimal(str(value))

    def snapshot_before(self, account_id: str, before_ms: int) -> Snapshot | None:
        """The account's newest snapshot strictly before a time."""
        rows = self._rows(SNAPSHOT_BEFORE, {"before": before_ms, "account": account_id})
        if not rows:
            return None
        seq, ts, nav, unrealized = rows[0]
        self._refuse_bad(_ONE_SNAPSHOT_BAD, "ACCOUNT_SNAPSHOT", {"seq": seq})
        return Snapshot(seq, ts, Decimal(str(nav)), Decimal(str(unrealized)))

    def realized_pl(self, account_id: str, since_ms: int) -> Decimal:
        """Sum of the account's TRADE_CLOSED realized_pl after a time."""
        params = {"since": since_ms, "account": account_id}
        self._refuse_bad(_PL_BAD, "TRADE_CLOSED", params)
        total, _ = self._rows(REALIZED_PL, params)[0]
        return Decimal(str(total))

    def bad_timestamps(self, limit: int = 20) -> list[tuple[int, str, str]]:
        """(seq, type, problem) of events whose ts is not a believable time, oldest first."""
        return [tuple(r) for r in self._rows(BAD_TIMESTAMPS, self._checked({"n": limit}))]

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
        params = {"n": last_n, "tolerance": tolerance_ms}
        if self._rows(TS_STEPS_BACK, params)[0][0] == 1:
            return []
        return [tuple(r) for r in self._rows(TS_REGRESSIONS, params)]
