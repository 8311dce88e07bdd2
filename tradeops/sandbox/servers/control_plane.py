"""The sandbox platform's control plane: the contract's HTTP API over the event store.

    python -m tradeops.sandbox.servers.control_plane --config DIR/sandbox.json

Binds 127.0.0.1 on an ephemeral port, prints `PORT <n>` as its first stdout line, and
serves until SIGTERM or until its parent is gone. Standard library only (fast start, and
the platform must not share code with the suite that verifies it); the store is opened
read-only per request. Faults from sandbox.json's `control_plane` section:
`degraded` (health says "degraded"), `summary_lies` (summary says all is well),
`brokers_connected` (false: every broker reported disconnected), `health_delay_s`
(/api/health answers that many seconds late), `clock_offset_s` (the platform's clock runs
that far ahead: `time` in /api/health and `generated_at` in the summary).
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import signal
import sqlite3
import sys
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tradeops.sandbox._loopback import LoopbackServer

VERSION = "1.4.2"
TOKEN_ENV = "TRADEOPS_SANDBOX_CONTROL_TOKEN"


def _int_field(name: str) -> str:
    """A payload integer, NULL if absent, mistyped or the payload is not JSON.

    json_extract sits behind json_valid inside CASE (evaluated in order): a malformed
    payload must not turn the whole answer into a 503.
    """
    path = f"'$.{name}'"
    return (
        f"CASE WHEN json_valid(payload) THEN CASE WHEN json_type(payload, {path}) = 'integer' "
        f"THEN json_extract(payload, {path}) END END"
    )


# Live runs: first RUN_STARTED per run, no RUN_ENDED, scheduled end not yet passed; with
# the newest HEARTBEAT found by walking the run's index backwards.
_LIVE_RUNS = f"""
WITH started AS (
  SELECT run_id, MIN(seq) AS seq, ts, strategy_id, instrument, account_id,
         {_int_field("heartbeat_interval_s")} AS interval_s,
         {_int_field("scheduled_end_ts")} AS end_ts
  FROM events WHERE type = 'RUN_STARTED' AND run_id IS NOT NULL GROUP BY run_id
),
live AS (
  SELECT s.*, (SELECT h.seq FROM events h WHERE h.run_id = s.run_id AND +h.type = 'HEARTBEAT'
               ORDER BY h.run_seq DESC LIMIT 1) AS hb_seq
  FROM started s
  WHERE s.end_ts >= :now
    AND s.run_id NOT IN (SELECT run_id FROM events WHERE type = 'RUN_ENDED'
                         AND run_id IS NOT NULL)
)
SELECT l.run_id, l.strategy_id, l.instrument, l.account_id, l.interval_s, l.ts, hb.ts
FROM live l LEFT JOIN events hb ON hb.seq = l.hb_seq ORDER BY l.seq
"""

# Holes per run: a hole before the first event, and one wherever run_seq jumps.
# Holes per run: COUNT/MIN/MAX finds the runs with any (cheap), LAG counts theirs; a
# window over every live run's events made each summary cost 30 ms more.
_HOLES = """
WITH per_run AS (
  SELECT run_id, COUNT(DISTINCT run_seq) AS n, MIN(run_seq) AS lo, MAX(run_seq) AS hi
  FROM events WHERE run_id IN (SELECT value FROM json_each(:ids)) AND run_seq IS NOT NULL
  GROUP BY run_id
),
holed AS (SELECT run_id FROM per_run WHERE n != hi - lo + 1 OR lo > 1)
SELECT run_id, SUM(run_seq > coalesce(prev, 0) + 1) FROM (
  SELECT e.run_id, e.run_seq, LAG(e.run_seq) OVER (PARTITION BY e.run_id ORDER BY e.run_seq)
         AS prev
  FROM events e JOIN holed USING (run_id) WHERE e.run_seq IS NOT NULL
) GROUP BY run_id
"""


def rfc3339(ms: int | float) -> str:
    """Epoch milliseconds as an RFC 3339 UTC string with millisecond precision."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class StoreUnreadable(Exception):
    """The store could not be read; the platform answers 503."""


class Platform:
    """The answers of the three endpoints, from sandbox.json, the store and strategies.json."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.store = str(config["store"])
        self.faults = config.get("control_plane") or {}
        self.stale_after = float(config.get("stale_after_heartbeats", 3))
        self.health_delay_s = max(0.0, float(self.faults.get("health_delay_s") or 0))
        # The platform's own clock: only the times it stamps itself move, not the store's.
        self.clock_offset_ms = int(float(self.faults.get("clock_offset_s") or 0) * 1000)

    def _read(self, query: str, params: Any = ()) -> list[tuple]:
        uri = "file:" + urllib.parse.quote(os.path.abspath(self.store)) + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=2.0, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreUnreadable(f"cannot open the event store: {exc}") from None
        try:
            return conn.execute(query, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnreadable(f"cannot read the event store: {exc}") from None
        finally:
            conn.close()

    def health(self, now_ms: int) -> dict[str, Any]:
        """GET /api/health."""
        journal = self._read("PRAGMA journal_mode")[0][0]
        newest = self._read("SELECT ts FROM events ORDER BY seq DESC LIMIT 1")
        connected = bool(self.faults.get("brokers_connected", True))
        # A disconnected broker was last heard from when the sandbox started.
        heard = now_ms - 1000 if connected else int(self.config.get("now_ms", now_ms))
        accounts = [a for group in (self.config.get("brokers") or {}).values() for a in group]
        return {
            "status": "degraded" if self.faults.get("degraded") else "ok",
            "version": VERSION,
            "time": rfc3339(now_ms + self.clock_offset_ms),
            "event_store": {
                "journal_mode": str(journal).lower(),
                "last_write": rfc3339(newest[0][0]) if newest else None,
            },
            "brokers": [
                {"account_id": a, "connected": connected, "last_heartbeat": rfc3339(heard)}
                for a in accounts
            ],
        }

    def summary(self, now_ms: int) -> dict[str, Any]:
        """GET /api/control/summary: live runs, stale and gap counts (or lies)."""
        rows = self._read(_LIVE_RUNS, {"now": now_ms})
        ids = json.dumps([r[0] for r in rows])
        holes = dict(self._read(_HOLES, {"ids": ids})) if rows else {}
        lies = bool(self.faults.get("summary_lies"))
        runs = []
        for run_id, strategy, instrument, account, interval_s, started_ts, hb_ts in rows:
            threshold_ms = self.stale_after * (interval_s or 10) * 1000
            # A run with no heartbeat yet is judged from its start.
            stale = now_ms - (hb_ts if hb_ts is not None else started_ts) > threshold_ms
            gaps = int(holes.get(run_id) or 0)
            if lies:
                stale, gaps, hb_ts = False, 0, now_ms
            runs.append(
                {
                    "run_id": run_id,
                    "strategy_id": strategy,
                    "instrument": instrument,
                    "account_id": account,
                    "state": "running",
                    "last_heartbeat": rfc3339(hb_ts) if hb_ts is not None else None,
                    "stale": stale,
                    "gaps": gaps,
                }
            )
        healthy = lies or not any(r["stale"] or r["gaps"] for r in runs)
        return {
            "status": "green" if healthy else "amber",
            "generated_at": rfc3339(now_ms + self.clock_offset_ms),
            "runs": runs,
        }

    def strategies(self) -> dict[str, Any]:
        """GET /api/strategies: strategies.json as the platform's configuration."""
        try:
            data = json.loads(Path(self.config["strategies"]).read_text())
        except (OSError, ValueError, KeyError) as exc:
            raise StoreUnreadable(f"cannot read strategies.json: {exc}") from None
        return {"strategies": data}


def make_handler(platform: Platform, token: str | None) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to this platform and token."""
    routes = {
        "/api/health": lambda now: platform.health(now),
        "/api/control/summary": lambda now: platform.summary(now),
        "/api/strategies": lambda now: platform.strategies(),
    }
    expected = f"Bearer {token}".encode() if token else None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the suite's client reuses connections
        # Headers and body go out in two writes; with Nagle on, the body waits for the
        # client's delayed ACK (40 ms on Linux) on every request.
        disable_nagle_algorithm = True
        server_version = f"tradeops-sandbox-control-plane/{VERSION}"

        def log_message(self, format: str, *args: Any) -> None:
            pass  # stderr is the sandbox's log file; requests are not worth a line each

        def _send(self, status: int, body: dict[str, Any], **headers: str) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if expected is not None:
                given = self.headers.get("Authorization", "").encode()
                if not hmac.compare_digest(given, expected):
                    body = {"error": "missing or wrong bearer token"}
                    self._send(401, body, WWW_Authenticate="Bearer")
                    return
            path = urllib.parse.urlsplit(self.path).path.rstrip("/") or "/"
            route = routes.get(path)
            if route is None:
                self._send(404, {"error": f"no such endpoint: {path}"})
                return
            if path == "/api/health" and platform.health_delay_s:
                # A slow platform: the answer is late, and stamped when it is finally built.
                time.sleep(platform.health_delay_s)
            now_ms = int(time.time() * 1000)
            try:
                body = route(now_ms)
            except StoreUnreadable as exc:
                self._send(503, {"status": "error", "error": str(exc)})
                return
            self._send(200, body)

        def _not_allowed(self) -> None:
            # Close after answering: an unread body (or a HEAD that expects none) must not
            # be mistaken for the next request on a kept-alive connection.
            self.close_connection = True
            body = {"error": f"{self.command} not allowed: this API is read-only"}
            self._send(405, body, Allow="GET", Connection="close")

        do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _not_allowed

    return Handler


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM or until the parent process is gone."""
    parser = argparse.ArgumentParser(prog="python -m tradeops.sandbox.servers.control_plane")
    parser.add_argument("--config", required=True, help="the sandbox's sandbox.json")
    args = parser.parse_args(argv)
    config = json.loads(Path(args.config).read_text())
    parent = os.getppid()
    server = LoopbackServer(
        ("127.0.0.1", 0), make_handler(Platform(config), os.environ.get(TOKEN_ENV) or None)
    )
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    # A short poll interval: shutdown() waits up to one interval for the loop to notice.
    serving = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    serving.start()
    print(f"PORT {server.server_address[1]}", flush=True)
    # Poll the parent once a second: a killed pytest must not leave this process behind.
    while not stop.wait(1.0) and os.getppid() == parent:
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
