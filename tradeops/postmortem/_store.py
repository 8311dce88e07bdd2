"""What the event store says happened in a window, as timeline entries.

Read-only through the EventStore connector: disconnects and reconnects, runs that went
silent (and resumed), the platform's stale detections, holes in run_seq, failed and aborted
runs, divergent reconciliations and alerts (and their resolution), promote decisions.
Every statement is bounded by the window and uses the contract's indexes.
"""

from __future__ import annotations

import json

from tradeops.connectors.event_store import EventStore
from tradeops.postmortem._entries import DETECTED, NOTE, RECOVERED, SIGNAL, Entry

_SCOPED = "seq, ts, type, run_id, strategy_id, instrument, account_id, payload"

EVENTS = f"""
SELECT {_SCOPED} FROM events
WHERE type IN ('BROKER_DISCONNECTED', 'BROKER_RECONNECTED', 'STALE_DETECTED', 'RUN_ENDED',
               'RECONCILIATION', 'RECONCILIATION_ALERT', 'RECONCILIATION_ALERT_RESOLVED',
               'PROMOTE_REQUESTED', 'PROMOTE_DECIDED')
  AND ts >= :since AND ts < :until
ORDER BY ts, seq
"""

# Each run's silence limit (heartbeat interval x the staleness factor) and scope.
_RUNS = """
runs AS MATERIALIZED (
  SELECT run_id, strategy_id, instrument, account_id,
         json_extract(payload, '$.heartbeat_interval_s') * 1000 * :factor AS limit_ms,
         json_extract(payload, '$.scheduled_end_ts') AS scheduled_end
  FROM events WHERE type = 'RUN_STARTED' AND ts < :until)
"""

# Heartbeat silences inside the window: consecutive heartbeats further apart than the run's
# limit. The gaps are first cut with the smallest limit of any run (one pass over the
# window's heartbeats), then each is held against its own run's limit.
SILENCES = f"""
WITH gaps AS MATERIALIZED (
  SELECT run_id, prev_seq, prev_ts, seq, ts FROM (
    SELECT run_id, seq, ts, lag(ts) OVER w AS prev_ts, lag(seq) OVER w AS prev_seq
    FROM events WHERE type = 'HEARTBEAT' AND ts >= :since AND ts < :until
    WINDOW w AS (PARTITION BY run_id ORDER BY ts))
  WHERE ts - prev_ts > (SELECT min(json_extract(payload, '$.heartbeat_interval_s'))
                        FROM events WHERE type = 'RUN_STARTED') * 1000 * :factor),
{_RUNS}
SELECT g.run_id, r.strategy_id, r.instrument, r.account_id, g.prev_seq, g.prev_ts, g.seq, g.ts
FROM gaps g JOIN runs r USING (run_id)
WHERE g.ts - g.prev_ts > r.limit_ms
ORDER BY g.prev_ts
"""

# Runs still silent when the window (or the store's newest event) ends.
STILL_SILENT = f"""
WITH {_RUNS},
last AS (
  SELECT run_id, max(ts) AS ts, max(seq) AS seq FROM events
  WHERE type = 'HEARTBEAT' AND ts >= :since AND ts < :until GROUP BY run_id)
SELECT l.run_id, r.strategy_id, r.instrument, r.account_id, l.seq, l.ts
FROM last l JOIN runs r USING (run_id)
WHERE l.ts < :observed - r.limit_ms
  AND r.scheduled_end > l.ts + r.limit_ms
  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.run_id = l.run_id AND e.type = 'RUN_ENDED'
                  AND e.ts <= l.ts + r.limit_ms)
ORDER BY l.ts
"""

# Holes in run_seq whose next event falls in the window.
GAPS = """
SELECT run_id, strategy_id, instrument, account_id, prev + 1, run_seq - 1, seq, ts FROM (
  SELECT run_id, strategy_id, instrument, account_id, run_seq, seq, ts,
         lag(run_seq) OVER (PARTITION BY run_id ORDER BY run_seq) AS prev
  FROM events
  WHERE run_id IN (SELECT DISTINCT run_id FROM events
                   WHERE ts >= :since AND ts < :until AND run_id IS NOT NULL))
WHERE run_seq > prev + 1 AND ts >= :since AND ts < :until
ORDER BY ts
"""

NEWEST = "SELECT max(ts) FROM events WHERE ts < :until"


def _payload(text: str) -> dict:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _hhmmss(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%H:%M:%S")


def _event_entry(row: tuple) -> Entry | None:
    seq, ts, kind, run, strategy, instrument, account, raw = row
    p = _payload(raw)
    at = {"ts_ms": ts, "source": f"event seq {seq}", "strategy": strategy, "account": account}
    at |= {"instrument": instrument, "run": run}
    if kind == "BROKER_DISCONNECTED":
        reason = p.get("reason", "no reason given")
        text = f"broker account {account} disconnected ({reason})"
        return Entry(kind=DETECTED, text=text, opens=("broker", account), **at)
    if kind == "BROKER_RECONNECTED":
        return Entry(kind=RECOVERED, text=f"broker account {account} reconnected",
                     closes=("broker", account), **at)  # fmt: skip
    if kind == "STALE_DETECTED":
        last = p.get("last_heartbeat_ts")
        since = f"; last heartbeat {_hhmmss(last)}" if isinstance(last, int) else ""
        text = f"the platform's detector: run {run} ({strategy}) stale{since}"
        return Entry(kind=DETECTED, text=text, opens=("run", run), **at)
    if kind == "RUN_ENDED" and p.get("status") in ("failed", "aborted"):
        text = f"run {run} ({strategy}, {instrument}) ended {p['status']}: {p.get('reason', '')}"
        return Entry(kind=DETECTED, text=text.rstrip(": "), **at)
    if kind == "RECONCILIATION":
        if p.get("divergent") is True:
            listed = ", ".join(map(str, p.get("instruments") or [])) or "instruments not named"
            text = f"reconciliation of {account} divergent ({listed})"
            return Entry(kind=DETECTED, text=text, opens=("reconciliation", account), **at)
        return Entry(kind=RECOVERED, text=f"reconciliation of {account} agrees again",
                     closes=("reconciliation", account), **at)  # fmt: skip
    alert = str(p.get("alert_id"))
    if kind == "RECONCILIATION_ALERT":
        text = f"reconciliation alert {alert} raised for {strategy} on {account}"
        return Entry(kind=DETECTED, text=text, opens=("alert", alert), **at)
    if kind == "RECONCILIATION_ALERT_RESOLVED":
        return Entry(kind=RECOVERED, text=f"reconciliation alert {alert} resolved",
                     closes=("alert", alert), **at)  # fmt: skip
    if kind == "PROMOTE_REQUESTED":
        text = f"promote of {strategy} to {p.get('to', 'live')} requested (gate {p.get('gate_id')})"
        return Entry(kind=NOTE, text=text, **at)
    if kind == "PROMOTE_DECIDED":
        verdict = "approved" if p.get("approved") is True else "refused"
        text = f"promote gate {p.get('gate_id')} for {strategy} {verdict}: {p.get('reason', '')}"
        return Entry(kind=NOTE, text=text.rstrip(": "), **at)
    return None


def store_entries(
    store: EventStore, since_ms: int, until_ms: int, stale_after_heartbeats: float
) -> list[Entry]:
    """Every store fact of the window as timeline entries, oldest first."""
    params = {"since": since_ms, "until": until_ms, "factor": stale_after_heartbeats}
    rows = store._rows  # the connector's read-only, bounded, operator-worded read (as slo/ does)
    entries = [e for e in map(_event_entry, rows(EVENTS, params)) if e is not None]
    # A reconciliation that agrees only closes a divergence seen before it.
    entries = _drop_unopened(entries, "reconciliation")
    for run, strategy, instrument, account, prev_seq, prev_ts, seq, ts in rows(SILENCES, params):
        scope = {"strategy": strategy, "account": account, "instrument": instrument, "run": run}
        entries.append(Entry(prev_ts, SIGNAL, f"run {run} ({strategy}) went silent: last heartbeat",
                             f"event seq {prev_seq}", opens=("run", run), **scope))  # fmt: skip
        silent_s = (ts - prev_ts) // 1000
        entries.append(Entry(ts, RECOVERED, f"run {run} heartbeats again after {silent_s} s",
                             f"event seq {seq}", closes=("run", run), **scope))  # fmt: skip
    (newest,) = rows(NEWEST, params)[0]
    observed = min(until_ms, newest if newest is not None else until_ms)
    for run, strategy, instrument, account, seq, ts in rows(
        STILL_SILENT, params | {"observed": observed}
    ):
        scope = {"strategy": strategy, "account": account, "instrument": instrument, "run": run}
        entries.append(Entry(ts, SIGNAL, f"run {run} ({strategy}) went silent: last heartbeat "
                             "(still silent at the window's end)", f"event seq {seq}",
                             opens=("run", run), **scope))  # fmt: skip
    for run, strategy, instrument, account, first, last, seq, ts in rows(GAPS, params):
        missing = f"{first}" if first == last else f"{first}-{last}"
        scope = {"strategy": strategy, "account": account, "instrument": instrument, "run": run}
        entries.append(Entry(ts, SIGNAL, f"run {run} lost events: run_seq {missing} missing",
                             f"event seq {seq}", **scope))  # fmt: skip
    return sorted(entries, key=lambda e: (e.ts_ms, e.source))


def _drop_unopened(entries: list[Entry], what: str) -> list[Entry]:
    open_now: set[tuple[str, str]] = set()
    kept = []
    for entry in entries:
        if entry.opens and entry.opens[0] == what:
            open_now.add(entry.opens)
        if entry.closes and entry.closes[0] == what:
            if entry.closes not in open_now:
                continue
            open_now.discard(entry.closes)
        kept.append(entry)
    return kept
