"""The suite's own probe history: every control-plane probe, for the availability SLI.

Control plane availability cannot come from the event store (a platform that is down
writes nothing), so every run of the suite records its control-plane probe (time,
outcome, latency, error) in an SQLite database the suite owns (default
`reports/probe-history.sqlite`, `[reports] history_db` in the manifest), never in the
event store. Several suite runs may record at once (cron and the gate): WAL mode and a
busy timeout let their short writes queue instead of failing.

Every probe is keyed by its platform (`[platform] name`, else the control plane URL),
and a platform's SLI counts its own probes only: manifests and drills that share a
reports directory never spend each other's budget. A file written before platforms
were named gains the column on its next write; its older probes (platform NULL) belong
to no named platform and are not counted.
"""

from __future__ import annotations

import os
import sqlite3
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from tradeops._record import frozen_record
from tradeops.config import Manifest, SloConfig, reports_root

if TYPE_CHECKING:
    from tradeops.slo.objectives import Measurement

SCHEMA = """
CREATE TABLE IF NOT EXISTS probes (
  id          INTEGER PRIMARY KEY,
  ts          INTEGER NOT NULL,   -- probe time, Unix epoch ms, UTC
  ok          INTEGER NOT NULL,   -- 1: GET /api/health answered 200 "ok"
  latency_ms  REAL,               -- how long the answer took (NULL: no answer)
  error       TEXT,               -- why it was not ok, as the connector said it
  platform    TEXT                -- [platform] name (NULL: recorded before names)
);
CREATE INDEX IF NOT EXISTS probes_ts ON probes(ts);
"""
PLATFORM_INDEX = "CREATE INDEX IF NOT EXISTS probes_platform_ts ON probes(platform, ts)"
AVAILABILITY_ROWS = (
    "SELECT ts AS t, NOT ok AS bad FROM probes "
    "WHERE platform IS :platform AND ts > :start AND ts <= :now"
)
MAX_ERROR_CHARS = 500  # an error is one operator's sentence; a runaway message is cut


class ProbeHistoryError(Exception):
    """The probe history could not be written or read; the message names the file."""


@frozen_record
class Probe:
    """One recorded control-plane probe."""

    ts: int
    ok: bool
    latency_ms: float | None
    error: str | None


def history_path(
    manifest: Manifest, rootdir: Path, reports_dir: str | None = None, sandbox: bool = False
) -> Path:
    """Where the probe history lives: `[reports] history_db` in the reports root.

    The root is the paper trail's (`config.reports_root`: `--ops-reports-dir`, given here
    as `reports_dir`, else `[reports] dir` relative to the manifest, else reports/ under
    the rootdir); an absolute `history_db` is taken as is.
    """
    root = reports_root(reports_dir, manifest.reports.dir, manifest.path, rootdir, sandbox)
    return root / Path(manifest.reports.history_db).expanduser()


def history_of(
    manifest: Manifest, rootdir: Path, reports_dir: str | None = None, sandbox: bool = False
) -> ProbeHistory:
    """The manifest's platform's probe history, where `history_path` puts it."""
    path = history_path(manifest, rootdir, reports_dir, sandbox)
    return ProbeHistory(path, platform=manifest.platform_name)


class ProbeHistory:
    """One platform's probes in the database at `path`; every call opens, does one thing,
    closes. `platform` None is the unnamed history of a file from before names."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        busy_timeout_s: float = 5.0,
        platform: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.platform = platform

    def __repr__(self) -> str:
        return f"ProbeHistory({str(self.path)!r}, platform={self.platform!r})"

    def record(
        self,
        ts_ms: int | None,
        ok: bool,
        latency_ms: float | None,
        error: str | None = None,
    ) -> None:
        """Append one probe (ts_ms None: now); ProbeHistoryError if the file cannot be written."""
        ts = int(time.time() * 1000) if ts_ms is None else int(ts_ms)
        text = None if error is None else str(error)[:MAX_ERROR_CHARS]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout_s, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ProbeHistoryError(f"cannot open the probe history {self.path}: {exc}") from None
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            _add_platform_column(conn)
            conn.execute(
                "INSERT INTO probes (ts, ok, latency_ms, error, platform) VALUES (?, ?, ?, ?, ?)",
                (ts, 1 if ok else 0, latency_ms, text, self.platform),
            )
        except sqlite3.Error as exc:
            raise ProbeHistoryError(f"cannot record a probe in {self.path}: {exc}") from None
        finally:
            conn.close()

    def probes(self, since_ms: int, until_ms: int) -> list[Probe]:
        """This platform's probes with since_ms < ts <= until_ms, oldest first."""
        rows = self._read(
            "SELECT ts, ok, latency_ms, error FROM probes "
            "WHERE platform IS ? AND ts > ? AND ts <= ? ORDER BY ts, id",
            (self.platform, since_ms, until_ms),
        )
        return [Probe(ts, bool(ok), latency, error) for ts, ok, latency, error in rows]

    def measure(self, config: SloConfig, now_ms: int) -> Measurement:
        """Control plane availability as of now_ms: probes healthy / probes in the window."""
        # Imported here: every run records its probe, and only SLO runs read them back.
        from tradeops.slo._sql import Window, aggregate, counts_of
        from tradeops.slo.objectives import Measurement

        window = Window(now_ms, config.window_days)
        try:
            rows = self._read(aggregate(AVAILABILITY_ROWS), window.params(platform=self.platform))
        except ProbeHistoryError as exc:
            return Measurement.failed(str(exc))
        if not rows:
            return Measurement(
                notes=(
                    f"no probe history yet for {self.platform or 'this platform'} at {self.path}",
                )
            )
        counted, alerts = counts_of(rows[0])
        return Measurement(counted, alerts)

    def _read(self, query: str, params: object) -> list[tuple]:
        """One read over a read-only connection; a missing file reads as no probes."""
        if not self.path.exists():
            return []
        uri = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout_s)
        except sqlite3.Error as exc:
            raise ProbeHistoryError(f"cannot open the probe history {self.path}: {exc}") from None
        try:
            return conn.execute(query, params).fetchall()
        except sqlite3.Error as exc:
            # No table yet, or a file from before platforms were named (no platform
            # column, read-only here): no probes of this platform.
            if "no such table" in str(exc) or "no such column: platform" in str(exc):
                return []
            raise ProbeHistoryError(f"cannot read the probe history {self.path}: {exc}") from None
        finally:
            conn.close()


def _add_platform_column(conn: sqlite3.Connection) -> None:
    """Give a file from before platforms were named its platform column, once.

    Under BEGIN IMMEDIATE, so two runs upgrading the same file at once take turns; the
    second finds the column there. Old rows keep platform NULL.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        columns = {row[1] for row in conn.execute("PRAGMA table_info(probes)")}
        if "platform" not in columns:
            conn.execute("ALTER TABLE probes ADD COLUMN platform TEXT")
        conn.execute(PLATFORM_INDEX)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
