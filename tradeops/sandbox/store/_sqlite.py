"""The event store file: the contract's schema, a fast bulk load, and appends after it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

# The contract's DDL, verbatim (platform-contract.md section 1).
SCHEMA = """CREATE TABLE events (
  seq          INTEGER PRIMARY KEY,        -- global append order, strictly increasing
  ts           INTEGER NOT NULL,           -- event time, Unix epoch milliseconds, UTC
  type         TEXT    NOT NULL,           -- one of the types below
  run_id       TEXT,                       -- set on run-scoped events
  run_seq      INTEGER,                    -- per-run sequence 1,2,3,... contiguous; a hole means lost events
  strategy_id  TEXT,
  instrument   TEXT,                       -- OANDA instrument name, e.g. EUR_USD
  account_id   TEXT,                       -- broker account the event concerns
  payload      TEXT    NOT NULL DEFAULT '{}'  -- JSON object; fields per type below
)"""  # noqa: E501
INDEXES = (
    "CREATE INDEX events_ts      ON events(ts)",
    "CREATE INDEX events_type_ts ON events(type, ts)",
    "CREATE INDEX events_run     ON events(run_id, run_seq)",
)
INSERT = (
    "INSERT INTO events (ts, type, run_id, run_seq, strategy_id, instrument, account_id, payload)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def remove_store(path: Path) -> None:
    """Delete a store and its WAL and shared-memory files (a leftover WAL would be replayed)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def open_bulk(path: Path) -> sqlite3.Connection:
    """A new, empty store tuned for one big load: no journal, no fsync, no indexes yet."""
    remove_store(path)
    con = sqlite3.connect(path, isolation_level=None)
    for pragma in (
        "journal_mode=OFF",
        "synchronous=OFF",
        "locking_mode=EXCLUSIVE",
        "temp_store=FILE",
        "cache_size=-65536",  # 64 MiB: memory stays bounded whatever the store's size
        "threads=2",  # lets CREATE INDEX sort with a helper thread
    ):
        con.execute(f"PRAGMA {pragma}")
    con.execute(SCHEMA)
    con.execute("BEGIN")
    return con


def finish_bulk(con: sqlite3.Connection) -> None:
    """Commit the load, build the indexes, switch to WAL and close (the WAL is checkpointed)."""
    con.execute("COMMIT")
    for ddl in INDEXES:
        con.execute(ddl)
    # Exclusive locking would keep the WAL index in heap memory; a platform store uses shm.
    con.execute("PRAGMA locking_mode=NORMAL")
    mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if mode != "wal":
        raise RuntimeError(f"{con}: could not switch the store to WAL (got {mode!r})")
    con.close()


def open_append(path: Path) -> sqlite3.Connection:
    """The built store, opened to append the live session in one transaction."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA synchronous=OFF")
    con.execute("BEGIN IMMEDIATE")
    return con


def finish_append(con: sqlite3.Connection, journal_mode: str) -> str:
    """Commit, set the final journal mode, close; the mode the store ended in."""
    con.execute("COMMIT")
    mode = con.execute(f"PRAGMA journal_mode={journal_mode}").fetchone()[0]
    con.close()
    return str(mode)
