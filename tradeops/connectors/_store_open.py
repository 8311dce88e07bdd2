"""Opening the event store: look at what the path is before SQLite touches it.

SQLite given a FIFO blocks forever, given a symlink loop or an unreadable file says only
"unable to open database file", and given a directory or a text file says little more.
So the path is examined first (os.stat, which never blocks) and every kind of wrong path
gets its own sentence naming the path, at once. Then the file is opened read-only
(`mode=ro`, `query_only`) and must hold the contract's `events` table.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import urllib.parse

from tradeops.connectors.errors import EventStoreError

# The columns the contract's schema gives `events`; the store is refused without them.
COLUMNS = ("seq", "ts", "type", "run_id", "run_seq", "strategy_id", "instrument", "account_id")

_HEADER = b"SQLite format 3\x00"
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def check_path(path: str) -> None:
    """Raise EventStoreError unless `path` is a readable regular file with an SQLite header."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise EventStoreError(
                f"the event store {path} is a symlink to {os.readlink(path)}, which does not exist"
            ) from None
        raise EventStoreError(f"no event store at {path}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise EventStoreError(f"the event store {path} is a symlink loop") from None
        raise EventStoreError(f"cannot read the event store {path} ({exc.strerror})") from None
    for is_kind, name in _KINDS:
        if is_kind(mode):
            raise EventStoreError(f"the event store {path} is {name}, not an SQLite file")
    if not stat.S_ISREG(mode):
        raise EventStoreError(f"the event store {path} is not a regular file")
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, open() returns.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except PermissionError:
        raise EventStoreError(
            f"cannot read the event store {path}: permission denied "
            f"(mode {stat.filemode(mode)}, we are uid {os.geteuid()})"
        ) from None
    except OSError as exc:
        raise EventStoreError(f"cannot read the event store {path} ({exc.strerror})") from None
    try:
        header = os.read(fd, len(_HEADER))
    except OSError as exc:
        raise EventStoreError(f"cannot read the event store {path} ({exc.strerror})") from None
    finally:
        os.close(fd)
    if not header:
        raise EventStoreError(f"the event store {path} is an empty file (0 bytes)")
    if header != _HEADER:
        raise EventStoreError(f"{path} is not an SQLite database")


def open_readonly(path: str, busy_timeout_s: float) -> sqlite3.Connection:
    """A read-only connection to the store at `path`, its `events` table checked."""
    check_path(path)
    uri = "file:" + urllib.parse.quote(os.path.abspath(path)) + "?mode=ro"
    try:
        conn = sqlite3.connect(
            uri, uri=True, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
    except sqlite3.Error as exc:
        raise sqlite_error(path, busy_timeout_s, exc) from None
    try:
        conn.execute("PRAGMA query_only=1")
        columns = {row[0] for row in conn.execute("SELECT name FROM pragma_table_info('events')")}
    except sqlite3.Error as exc:
        conn.close()
        raise sqlite_error(path, busy_timeout_s, exc) from None
    if not columns:
        conn.close()
        raise EventStoreError(f"{path} has no `events` table: is this the platform's event store?")
    missing = [c for c in (*COLUMNS, "payload") if c not in columns]
    if missing:
        conn.close()
        raise EventStoreError(
            f"{path}: table `events` lacks column(s) {', '.join(missing)}: "
            "is this the platform's event store?"
        )
    return conn


def sqlite_error(path: str, busy_timeout_s: float, exc: sqlite3.Error) -> EventStoreError:
    """An operator's sentence for a sqlite3 failure on the store at `path`."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return EventStoreError(f"{path} stayed locked for more than {busy_timeout_s:g} s")
    if name.startswith("SQLITE_NOTADB") or "not a database" in text:
        return EventStoreError(f"{path} is not an SQLite database")
    # Not just "malformed": SQLite's "malformed JSON" is a query error, not corruption.
    if name.startswith("SQLITE_CORRUPT") or "disk image is malformed" in text:
        return EventStoreError(f"{path} is corrupt ({text})")
    if name.startswith("SQLITE_CANTOPEN"):
        return EventStoreError(f"cannot open the event store {path} ({text})")
    if name.startswith("SQLITE_TOOBIG") or "too big" in text:
        return EventStoreError(f"{path}: a row is too big to read ({text})")
    return EventStoreError(f"cannot read the event store {path} ({text})")
