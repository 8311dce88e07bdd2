"""Build a tiny contract-conforming events.sqlite for a test, one readable line per event.

    store = (
        StoreBuilder(tmp_path / "events.sqlite", now_ms=NOW)
        .run_started("r-1", strategy_id="mr-eurusd-01", ts=NOW - 60_000)
        .heartbeats("r-1", count=5)
        .skip("r-1")                       # a hole in r-1's run_seq
        .heartbeat("r-1")
        .event("PROMOTE_REQUESTED", strategy_id="mr-eurusd-01", payload={"gate_id": "g-1"})
        .write()                           # -> the Path, WAL mode, schema exactly the contract's
    )

Run-scoped events inherit strategy/instrument/account from their run's RUN_STARTED and get
the next run_seq automatically. `payload` may be a dict (stored as JSON) or a str (stored
as is, to build malformed rows). `write()` may be called again to append more events.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  seq          INTEGER PRIMARY KEY,
  ts           INTEGER NOT NULL,
  type         TEXT    NOT NULL,
  run_id       TEXT,
  run_seq      INTEGER,
  strategy_id  TEXT,
  instrument   TEXT,
  account_id   TEXT,
  payload      TEXT    NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS events_ts      ON events(ts);
CREATE INDEX IF NOT EXISTS events_type_ts ON events(type, ts);
CREATE INDEX IF NOT EXISTS events_run     ON events(run_id, run_seq);
"""
COLUMNS = ("ts", "type", "run_id", "run_seq", "strategy_id", "instrument", "account_id", "payload")

ACCOUNT = "101-004-1234567-001"
NOW_MS = 1_795_000_000_000  # 2026-11-18T11:06:40Z: a fixed "now" for tests that need none


@dataclass
class _RunInfo:
    strategy_id: str
    instrument: str
    account_id: str
    interval_ms: int
    next_seq: int = 1
    clock_ms: int = 0  # ts of the run's latest event: heartbeats() continues from here


@dataclass
class StoreBuilder:
    """Collects events in memory; `write()` puts them in a WAL (or DELETE) mode store."""

    path: Path
    now_ms: int = NOW_MS
    journal_mode: str = "wal"
    rows: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[str, _RunInfo] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    # -- any event ---------------------------------------------------------------------

    def event(
        self, type: str, *, ts: int | None = None, payload: dict | str | None = None, **cols: Any
    ) -> StoreBuilder:
        """Any event; with run_id=... it inherits that run's columns and next run_seq."""
        unknown = set(cols) - set(COLUMNS)
        if unknown:
            raise TypeError(f"StoreBuilder.event: unknown column(s) {sorted(unknown)}")
        run = self.runs.get(cols.get("run_id") or "")
        if run is not None:
            for name in ("strategy_id", "instrument", "account_id"):
                cols.setdefault(name, getattr(run, name))
            if "run_seq" not in cols:
                cols["run_seq"] = run.next_seq
            run.next_seq = cols["run_seq"] + 1
        ts = self.now_ms if ts is None else ts
        if run is not None:
            run.clock_ms = max(run.clock_ms, ts)
        text = payload if isinstance(payload, str) else json.dumps(payload or {})
        self.rows.append({**cols, "ts": ts, "type": type, "payload": text})
        return self

    # -- runs --------------------------------------------------------------------------

    def run_started(
        self,
        run_id: str,
        *,
        strategy_id: str = "mr-eurusd-01",
        instrument: str = "EUR_USD",
        account_id: str = ACCOUNT,
        ts: int | None = None,
        mode: str = "paper",
        heartbeat_interval_s: int = 10,
        scheduled_end_ts: int | None = None,
        payload: dict | str | None = None,
    ) -> StoreBuilder:
        """RUN_STARTED; by default started a minute before now and ending in an hour."""
        ts = self.now_ms - 60_000 if ts is None else ts
        end = self.now_ms + 3_600_000 if scheduled_end_ts is None else scheduled_end_ts
        self.runs[run_id] = _RunInfo(
            strategy_id, instrument, account_id, heartbeat_interval_s * 1000, clock_ms=ts
        )
        if payload is None:
            payload = {
                "mode": mode,
                "heartbeat_interval_s": heartbeat_interval_s,
                "scheduled_end_ts": end,
            }
        return self.event("RUN_STARTED", ts=ts, run_id=run_id, payload=payload)

    def heartbeat(self, run_id: str, *, ts: int | None = None) -> StoreBuilder:
        """One HEARTBEAT, by default one interval after the run's latest event."""
        run = self._run(run_id)
        ts = run.clock_ms + run.interval_ms if ts is None else ts
        return self.event("HEARTBEAT", ts=ts, run_id=run_id)

    def heartbeats(self, run_id: str, *, count: int) -> StoreBuilder:
        """`count` HEARTBEATs, one interval apart, after the run's latest event."""
        for _ in range(count):
            self.heartbeat(run_id)
        return self

    def skip(self, run_id: str, events: int = 1) -> StoreBuilder:
        """Lose the run's next `events` run_seq numbers: a gap."""
        self._run(run_id).next_seq += events
        return self

    def run_ended(
        self, run_id: str, status: str = "completed", *, reason: str = "", ts: int | None = None
    ) -> StoreBuilder:
        """RUN_ENDED with a status ("completed", "failed", "aborted")."""
        ts = self._run(run_id).clock_ms + 1000 if ts is None else ts
        return self.event(
            "RUN_ENDED", ts=ts, run_id=run_id, payload={"status": status, "reason": reason}
        )

    def fill(
        self, run_id: str, units: int, *, transaction_id: str = "1", price: str = "1.08421"
    ) -> StoreBuilder:
        """ORDER_FILLED for a run (inherits its account and instrument)."""
        payload = {
            "client_order_id": f"c-{run_id}-{self._run(run_id).next_seq}",
            "broker_transaction_id": transaction_id,
            "units": units,
            "price": price,
        }
        return self.event("ORDER_FILLED", run_id=run_id, payload=payload)

    # -- platform-scoped ---------------------------------------------------------------

    def promote_requested(self, gate_id: str, strategy_id: str = "mr-eurusd-01") -> StoreBuilder:
        """PROMOTE_REQUESTED to live."""
        payload = {"gate_id": gate_id, "to": "live"}
        return self.event("PROMOTE_REQUESTED", strategy_id=strategy_id, payload=payload)

    def promote_decided(
        self, gate_id: str, strategy_id: str = "mr-eurusd-01", *, approved: bool = True
    ) -> StoreBuilder:
        """PROMOTE_DECIDED for a gate."""
        payload = {"gate_id": gate_id, "approved": approved, "reason": "reviewed"}
        return self.event("PROMOTE_DECIDED", strategy_id=strategy_id, payload=payload)

    def alert(
        self, alert_id: str, strategy_id: str = "mr-eurusd-01", *, resolved: bool = False
    ) -> StoreBuilder:
        """RECONCILIATION_ALERT, or its RESOLVED with resolved=True."""
        kind = "RECONCILIATION_ALERT_RESOLVED" if resolved else "RECONCILIATION_ALERT"
        return self.event(
            kind, strategy_id=strategy_id, account_id=ACCOUNT, payload={"alert_id": alert_id}
        )

    # -- output ------------------------------------------------------------------------

    def write(self) -> Path:
        """Append the collected events to the store (creating it) and return its path."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            conn.execute(f"PRAGMA journal_mode={self.journal_mode}")
            conn.executescript(SCHEMA)
            conn.execute("BEGIN")
            conn.executemany(
                f"INSERT INTO events ({', '.join(COLUMNS)}) "
                f"VALUES ({', '.join(':' + c for c in COLUMNS)})",
                [{c: row.get(c) for c in COLUMNS} for row in self.rows],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
        self.rows.clear()
        return self.path

    def _run(self, run_id: str) -> _RunInfo:
        if run_id not in self.runs:
            raise KeyError(f"StoreBuilder: run {run_id!r} has no run_started() yet")
        return self.runs[run_id]
