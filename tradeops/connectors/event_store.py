"""The event store, read-only: the contract's derived facts as typed records.

The platform appends to this SQLite file while we read it, so every helper is one short
autocommit read (no snapshot held across helpers: a long-lived reader would stop the
platform's WAL checkpoints) over a `mode=ro` connection with `query_only` on. Every
sqlite3 failure becomes an EventStoreError whose message names the file.

Values are checked where they enter: an event whose `ts` is not epoch milliseconds from
2000 up to now plus the clock-skew tolerance, or whose payload field a fact needs is
missing, mistyped or out of range, is a StoreValueError naming its seq and field. A fact
about one subject raises it; a fact about many (runs, net positions) carries it on the
subject it concerns, so one bad row puts only its own subject in doubt.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Any

from tradeops.connectors import _store_sql as sql
from tradeops.connectors._store_books import Snapshot, StoreBooks, TradeStats
from tradeops.connectors._store_open import open_readonly, sqlite_error
from tradeops.connectors._store_records import (
    Alert,
    Gap,
    Gate,
    Heartbeat,
    PayloadProblem,
    Run,
    StaleDetection,
)
from tradeops.connectors.errors import EventStoreError, StoreValueError

if TYPE_CHECKING:
    from tradeops.config import EventStoreConfig, Manifest

# How far ahead of our clock an event's ts may be: the platform's clock may run ahead
# by the clock-skew limit (the layer-1 clock_skew check's default).
CLOCK_SKEW_S = 5.0


class EventStore(StoreBooks):
    """Read-only access to the platform's events.sqlite; opens lazily on the first query."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        busy_timeout_s: float = 2.0,
        clock_skew_s: float = CLOCK_SKEW_S,
    ) -> None:
        self.path = str(path)
        self.busy_timeout_s = busy_timeout_s
        self.clock_skew_s = clock_skew_s
        self._conn: sqlite3.Connection | None = None
        # One connection shared by threads (check_same_thread=False); the lock makes each
        # helper's execute+fetch atomic with respect to the others.
        self._lock = threading.Lock()

    @classmethod
    def from_config(
        cls, config: EventStoreConfig, clock_skew_s: float = CLOCK_SKEW_S
    ) -> EventStore:
        """The store a manifest's [event_store] section names (`of` builds it through here)."""
        return cls(config.path, config.busy_timeout_s, clock_skew_s)

    @classmethod
    def of(cls, manifest: Manifest) -> EventStore:
        """The manifest's store, its timestamps judged with the manifest's clock-skew limit."""
        return cls.from_config(manifest.event_store, manifest.thresholds.clock_skew_max_s)

    def __repr__(self) -> str:
        return f"EventStore({self.path!r})"

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (a later query opens a new one)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- the facts -------------------------------------------------------------------

    def journal_mode(self) -> str:
        """The store's journal mode as SQLite reports it: "wal", "delete", ..."""
        return str(self._rows("PRAGMA journal_mode")[0][0]).lower()

    def live_runs(self, now_ms: int) -> list[Run]:
        """Runs started, not ended, and scheduled to end at or after now."""
        return [self._run(r) for r in self._rows(sql.LIVE_RUNS, self._checked({"now": now_ms}))]

    def residual_runs(self, now_ms: int) -> list[Run]:
        """Runs started, not ended, whose scheduled end has passed: left over."""
        return self.unended_runs(now_ms)[1]

    def unended_runs(self, now_ms: int) -> tuple[list[Run], list[Run]]:
        """(live_runs, residual_runs) in one read: the runs not ended, by scheduled end.

        A run whose scheduled end is unusable is in neither. (live_runs keeps a query of its
        own: the probe waits on it, and it reads only the runs scheduled to go on.)
        """
        rows = self._rows(sql.UNENDED_RUNS, self._checked({"now": now_ms}))
        runs = [self._run(r) for r in rows]
        ends = [(r, r.scheduled_end_ts) for r in runs if r.scheduled_end_ts is not None]
        return [r for r, end in ends if end >= now_ms], [r for r, end in ends if end < now_ms]

    def run(self, run_id: str) -> Run | None:
        """One run by id, or None if the store has no RUN_STARTED for it."""
        rows = self._rows(sql.ONE_RUN, self._checked({"run_id": run_id}))
        return self._run(rows[0]) if rows else None

    def last_heartbeats(self, run_ids: list[str]) -> dict[str, Heartbeat]:
        """run_id -> newest HEARTBEAT, for the given runs that have one."""
        rows = self._rows(sql.LAST_HEARTBEATS, self._checked({"ids": _ids(run_ids)}))
        for _, _, seq, problem in rows:
            self._raise(seq, "HEARTBEAT", problem)
        return {run_id: Heartbeat(ts, seq) for run_id, ts, seq, _ in rows}

    def gaps(self, run_ids: list[str] | None = None) -> list[Gap]:
        """Holes in run_seq, for the given runs or (None) every run in the store."""
        params = {} if run_ids is None else {"ids": _ids(run_ids)}
        for seq, kind, value in self._rows(sql.run_seq_sql(run_ids is not None), params):
            self._raise(seq, kind, f"`run_seq`: expected a positive integer, got {value}")
        return [Gap(*r) for r in self._rows(sql.gaps_sql(run_ids is not None), params)]

    def stale_detections(
        self, run_ids: list[str] | None = None, since_ms: int | None = None
    ) -> list[StaleDetection]:
        """STALE_DETECTED events, optionally only for some runs and since a time."""
        if isinstance(run_ids, int | float):
            # A positional time would silently filter by run id: refuse it loudly.
            raise TypeError("stale_detections: pass the time as since_ms=...")
        params: dict[str, Any] = {}
        if run_ids is not None:
            params["ids"] = _ids(run_ids)
        if since_ms is not None:
            params["since"] = since_ms
        query = sql.stale_sql(run_ids is not None, since_ms is not None)
        rows = self._rows(query, self._checked(params))
        for seq, *_, problem in rows:
            self._raise(seq, "STALE_DETECTED", problem)
        return [StaleDetection(*r[:5]) for r in rows]

    def pending_gates(self) -> list[Gate]:
        """Promote gates requested and never decided."""
        rows = self._rows(sql.PENDING_GATES, self._checked({}))
        for *_, seq, problem in rows:
            self._raise(seq, "PROMOTE_REQUESTED", problem)
        return [Gate(str(gate), strategy, ts, seq) for gate, strategy, ts, seq, _ in rows]

    def unresolved_alerts(self) -> list[Alert]:
        """Reconciliation alerts raised and never resolved."""
        rows = self._rows(sql.UNRESOLVED_ALERTS, self._checked({}))
        for *_, seq, problem in rows:
            self._raise(seq, "RECONCILIATION_ALERT", problem)
        return [Alert(str(a), strategy, acct, ts, seq) for a, strategy, acct, ts, seq, _ in rows]

    def net_positions(self) -> dict[tuple[str, str], int | StoreValueError]:
        """(account, instrument) -> sum of ORDER_FILLED units; a StoreValueError naming
        the first fill whose units are unusable, for a position that is therefore unknown."""
        out: dict[tuple[str, str], int | StoreValueError] = {}
        for acct, inst, units in self._rows(sql.NET_POSITIONS):
            if isinstance(units, int):
                out[(acct, inst)] = units
                continue
            where = {"account": acct, "instrument": inst}
            ((bad_seq, problem),) = self._rows(sql.FIRST_BAD_FILL, where)
            out[(acct, inst)] = StoreValueError(
                self.path, bad_seq, "ORDER_FILLED", "units", f"{problem} ({acct} {inst})"
            )
        return out

    def payload_problems(
        self, types: list[str], since_ms: int | None = None
    ) -> list[PayloadProblem]:
        """Rows of these types whose payload is not valid JSON or lacks/mistypes a field."""
        if not types:
            return []
        query, params = sql.problems_sql(list(types), since_ms is not None)
        if since_ms is not None:
            # Each per-type SELECT takes (type, since) in that order.
            params = [p for t in params for p in (t, since_ms)]
        return [PayloadProblem(*r) for r in self._rows(query, params)]

    def newest_event(self) -> tuple[int, int] | None:
        """(seq, ts) of the newest event, or None for an empty store."""
        query = f"SELECT seq, ts, type, {sql.ts_problem()} FROM events ORDER BY seq DESC LIMIT 1"
        rows = self._rows(query, self._checked({}))
        if not rows:
            return None
        seq, ts, kind, problem = rows[0]
        self._raise(seq, kind, problem)
        return seq, ts

    def count_events(self, since_ms: int | None = None) -> int:
        """How many events, all or with ts >= since_ms."""
        if since_ms is None:
            return self._rows("SELECT COUNT(*) FROM events")[0][0]
        return self._rows("SELECT COUNT(*) FROM events WHERE ts >= ?", [since_ms])[0][0]

    # -- values ----------------------------------------------------------------------

    def _checked(self, params: dict[str, Any]) -> dict[str, Any]:
        """Params plus :max_ts, the latest believable event time (our clock + the skew)."""
        return {**params, "max_ts": int(time.time() * 1000 + self.clock_skew_s * 1000)}

    def _raise(self, seq: int, kind: str, problem: str | None) -> None:
        """Raise the StoreValueError for a row's problem; nothing when it has none."""
        if problem:
            field = problem.split("`")[1] if "`" in problem else "payload"
            raise StoreValueError(self.path, seq, kind, field, problem)

    def _run(self, row: tuple) -> Run:
        # Columns come in Run's field order; SQLite gives `ended` as 0/1. The last two
        # name what is wrong with the start's and the newest heartbeat's ts.
        *fields, start_problem, hb_problem = row
        run = Run(*fields[:9], bool(fields[9]), *fields[10:])
        if start_problem:
            problem = StoreValueError(
                self.path, run.started_seq, "RUN_STARTED", "ts", start_problem
            )
        elif hb_problem and run.last_heartbeat_seq is not None:
            seq = run.last_heartbeat_seq
            problem = StoreValueError(self.path, seq, "HEARTBEAT", "ts", hb_problem)
        else:
            return run
        # The bad time is not kept: nothing can compare with it by mistake.
        return dataclasses.replace(run, last_heartbeat_ts=None, problem=problem)

    # -- plumbing --------------------------------------------------------------------

    def _rows(self, query: str, params: Any = ()) -> list[tuple]:
        """Run one read to completion and return every row; map sqlite3 errors."""
        with self._lock:
            try:
                conn = self._connection()
                cursor = conn.execute(query, params)
                try:
                    # fetchall steps the statement to its end, which ends the implicit
                    # read transaction: no snapshot outlives the helper.
                    return cursor.fetchall()
                finally:
                    cursor.close()
            except sqlite3.Error as exc:
                raise sqlite_error(self.path, self.busy_timeout_s, exc) from None
            except (RecursionError, MemoryError, OverflowError) as exc:
                raise EventStoreError(
                    f"cannot read the event store {self.path} ({type(exc).__name__}: {exc})"
                ) from None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_readonly(self.path, self.busy_timeout_s)
        return self._conn


def _ids(run_ids: list[str]) -> str:
    """Run ids as one JSON array parameter (read with json_each: no variable limit)."""
    return json.dumps([str(r) for r in run_ids])


__all__ = [
    "Alert",
    "EventStore",
    "EventStoreError",
    "Gap",
    "Gate",
    "Heartbeat",
    "PayloadProblem",
    "Run",
    "Snapshot",
    "StaleDetection",
    "StoreValueError",
    "TradeStats",
]
