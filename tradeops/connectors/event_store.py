"""The event store, read-only: the contract's derived facts as typed records.

The platform appends to this SQLite file while we read it, so every helper is one short
autocommit read (no snapshot held across helpers: a long-lived reader would stop the
platform's WAL checkpoints) over a `mode=ro` connection with `query_only` on. Every
sqlite3 failure becomes an EventStoreError whose message names the file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import urllib.parse
from dataclasses import dataclass
from typing import Any

from tradeops.connectors import _store_sql as sql
from tradeops.connectors._store_books import Snapshot, StoreBooks, TradeStats
from tradeops.connectors.errors import EventStoreError


@dataclass(frozen=True)
class Heartbeat:
    """A run's newest HEARTBEAT: its time (epoch ms) and global seq."""

    ts: int
    seq: int


@dataclass(frozen=True)
class Run:
    """One run as the store tells it: RUN_STARTED's payload, its end, its newest heartbeat.

    Payload fields are None when the RUN_STARTED payload is malformed (payload_problems
    names that row); `end_status` is None when the RUN_ENDED payload is.
    """

    run_id: str
    strategy_id: str | None
    instrument: str | None
    account_id: str | None
    mode: str | None
    heartbeat_interval_s: int | None
    scheduled_end_ts: int | None
    started_ts: int
    started_seq: int
    ended: bool
    end_status: str | None
    last_heartbeat_ts: int | None
    last_heartbeat_seq: int | None

    @property
    def reached_end(self) -> bool:
        """True when the run wrote RUN_ENDED (whatever its status)."""
        return self.ended

    @property
    def last_alive_ts(self) -> int:
        """When it last showed life: its newest heartbeat, else its start."""
        return self.last_heartbeat_ts or self.started_ts

    def heartbeat_age_s(self, now_ms: int) -> float:
        """Seconds since it last showed life."""
        return (now_ms - self.last_alive_ts) / 1000

    @property
    def last_heartbeat(self) -> Heartbeat | None:
        """The newest HEARTBEAT, or None if the run never sent one."""
        if self.last_heartbeat_ts is None or self.last_heartbeat_seq is None:
            return None
        return Heartbeat(self.last_heartbeat_ts, self.last_heartbeat_seq)


@dataclass(frozen=True)
class Gap:
    """A hole in a run's run_seq: run_seq missing_from..missing_to never arrived."""

    run_id: str
    strategy_id: str | None
    account_id: str | None
    missing_from: int
    missing_to: int
    seq_after: int  # global seq of the first event after the hole: where to look

    @property
    def missing(self) -> int:
        """How many events the hole lost."""
        return self.missing_to - self.missing_from + 1


@dataclass(frozen=True)
class StaleDetection:
    """A STALE_DETECTED event: the platform's own detector fired."""

    seq: int
    ts: int
    run_id: str | None
    strategy_id: str | None
    last_heartbeat_ts: int


@dataclass(frozen=True)
class Gate:
    """A PROMOTE_REQUESTED with no PROMOTE_DECIDED of the same gate_id."""

    gate_id: str
    strategy_id: str | None
    requested_ts: int
    seq: int


@dataclass(frozen=True)
class Alert:
    """A RECONCILIATION_ALERT with no RECONCILIATION_ALERT_RESOLVED of the same alert_id."""

    alert_id: str
    strategy_id: str | None
    account_id: str | None
    raised_ts: int
    seq: int


@dataclass(frozen=True)
class PayloadProblem:
    """A row whose payload is not valid JSON or lacks or mistypes a contract field."""

    seq: int
    type: str
    run_id: str | None
    problem: str


class EventStore(StoreBooks):
    """Read-only access to the platform's events.sqlite; opens lazily on the first query."""

    def __init__(self, path: str | os.PathLike[str], busy_timeout_s: float = 2.0) -> None:
        self.path = str(path)
        self.busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        # One connection shared by threads (check_same_thread=False); the lock makes each
        # helper's execute+fetch atomic with respect to the others.
        self._lock = threading.Lock()

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
        return [_run(r) for r in self._rows(sql.LIVE_RUNS, {"now": now_ms})]

    def residual_runs(self, now_ms: int) -> list[Run]:
        """Runs started, not ended, whose scheduled end has passed: left over."""
        return [_run(r) for r in self._rows(sql.RESIDUAL_RUNS, {"now": now_ms})]

    def run(self, run_id: str) -> Run | None:
        """One run by id, or None if the store has no RUN_STARTED for it."""
        rows = self._rows(sql.ONE_RUN, {"run_id": run_id})
        return _run(rows[0]) if rows else None

    def last_heartbeats(self, run_ids: list[str]) -> dict[str, Heartbeat]:
        """run_id -> newest HEARTBEAT, for the given runs that have one."""
        rows = self._rows(sql.LAST_HEARTBEATS, {"ids": _ids(run_ids)})
        return {run_id: Heartbeat(ts, seq) for run_id, ts, seq in rows}

    def gaps(self, run_ids: list[str] | None = None) -> list[Gap]:
        """Holes in run_seq, for the given runs or (None) every run in the store."""
        params = {} if run_ids is None else {"ids": _ids(run_ids)}
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
        return [StaleDetection(*r) for r in self._rows(query, params)]

    def pending_gates(self) -> list[Gate]:
        """Promote gates requested and never decided."""
        rows = self._rows(sql.PENDING_GATES)
        return [Gate(str(gate), strategy, ts, seq) for gate, strategy, ts, seq in rows]

    def unresolved_alerts(self) -> list[Alert]:
        """Reconciliation alerts raised and never resolved."""
        rows = self._rows(sql.UNRESOLVED_ALERTS)
        return [Alert(str(a), strategy, account, ts, seq) for a, strategy, account, ts, seq in rows]

    def net_positions(self) -> dict[tuple[str, str], int]:
        """(account, instrument) -> sum of ORDER_FILLED units."""
        return {(acct, inst): units for acct, inst, units in self._rows(sql.NET_POSITIONS)}

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
        rows = self._rows("SELECT seq, ts FROM events ORDER BY seq DESC LIMIT 1")
        return (rows[0][0], rows[0][1]) if rows else None

    def count_events(self, since_ms: int | None = None) -> int:
        """How many events, all or with ts >= since_ms."""
        if since_ms is None:
            return self._rows("SELECT COUNT(*) FROM events")[0][0]
        return self._rows("SELECT COUNT(*) FROM events WHERE ts >= ?", [since_ms])[0][0]

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
                raise self._error(exc) from None

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        try:
            mode = os.stat(self.path).st_mode
        except FileNotFoundError:
            raise EventStoreError(f"no event store at {self.path}") from None
        except OSError as exc:
            raise EventStoreError(
                f"cannot read the event store {self.path} ({exc.strerror})"
            ) from None
        if stat.S_ISDIR(mode):
            raise EventStoreError(f"{self.path} is a directory, not the event store's file")
        uri = "file:" + urllib.parse.quote(os.path.abspath(self.path)) + "?mode=ro"
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=self.busy_timeout_s,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            conn.execute("PRAGMA query_only=1")
            columns = {
                row[0] for row in conn.execute("SELECT name FROM pragma_table_info('events')")
            }
        except BaseException:
            conn.close()
            raise
        if not columns:
            conn.close()
            raise EventStoreError(
                f"{self.path} has no `events` table: is this the platform's event store?"
            )
        missing = [c for c in (*sql.COLUMNS, "payload") if c not in columns]
        if missing:
            conn.close()
            raise EventStoreError(
                f"{self.path}: table `events` lacks column(s) {', '.join(missing)}: "
                "is this the platform's event store?"
            )
        return conn

    def _error(self, exc: sqlite3.Error) -> EventStoreError:
        """An operator's sentence for a sqlite3 failure on this store."""
        name = getattr(exc, "sqlite_errorname", "") or ""
        text = str(exc)
        if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
            return EventStoreError(
                f"{self.path} stayed locked for more than {self.busy_timeout_s:g} s"
            )
        if name.startswith("SQLITE_NOTADB") or "not a database" in text:
            return EventStoreError(f"{self.path} is not an SQLite database")
        # Not just "malformed": SQLite's "malformed JSON" is a query error, not corruption.
        if name.startswith("SQLITE_CORRUPT") or "disk image is malformed" in text:
            return EventStoreError(f"{self.path} is corrupt ({text})")
        if name.startswith("SQLITE_CANTOPEN"):
            return EventStoreError(f"cannot open the event store {self.path} ({text})")
        return EventStoreError(f"cannot read the event store {self.path} ({text})")


def _run(row: tuple) -> Run:
    # Columns come in Run's field order; SQLite gives `ended` as 0/1.
    return Run(*row[:9], bool(row[9]), *row[10:])


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
    "TradeStats",
]
