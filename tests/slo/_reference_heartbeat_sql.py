"""REFERENCE ONLY (tests): the per-run events_run walk heartbeat delivery used before.

The SQL of heartbeat delivery: heartbeats owed by each run's span vs heartbeats received.

A run owes heartbeat k at S + k x interval (k >= 1) while it lives: from its RUN_STARTED
(time S) to its end E = its RUN_ENDED, else its scheduled end (a run that died without
RUN_ENDED owed heartbeats until then), else now; never past now. For a run still running
the newest interval is not judged yet (a heartbeat is late only once the next one is
due), so the owed slots are those in (lo, due], lo being the window's start or S and due
being E, or E - interval for a running run. Received heartbeats are counted in (lo, E]
and capped per run at what it owed: a run that sends extra heartbeats does not make up
for another run's losses.

Runs that started up to one SLO window before the window are considered (a run longer
than that is an anomaly the pre-flight's residual-run check reports). Counts are per run
(one index walk of events_run each), then summed: eligible = owed, bad = owed - received.
"""

from __future__ import annotations

from tradeops.slo._sql import field, window_param
from tradeops.slo.budget import ALERT_WINDOWS

# (column suffix, bind parameter of the window's start), SLO window first.
_WINDOWS = [("full", "start"), *((n, window_param(n)) for n in ALERT_WINDOWS)]


def _owed(lo: str) -> str:
    """Slots k with lo < S + k*i <= due, for a run span (S, i, due)."""
    return f"max(0, (due - S) / i - (max(S, {lo}) - S) / i)"


def heartbeat_delivery_sql() -> str:
    """One row: eligible and bad for the SLO window, then per alert window."""
    received = ", ".join(
        f"COALESCE(SUM(h.ts > max(sp.S, :{p})), 0) AS got_{n}" for n, p in _WINDOWS
    )
    owed = ", ".join(f"{_owed(':' + p)} AS owed_{n}" for n, p in _WINDOWS)
    totals = []
    for name, _ in _WINDOWS:
        totals += [
            f"COALESCE(SUM(owed_{name}), 0)",
            f"COALESCE(SUM(owed_{name} - min(got_{name}, owed_{name})), 0)",
        ]
    return f"""
WITH started AS (
  SELECT run_id, MIN(ts) AS S, 1000 * {field("heartbeat_interval_s", "integer")} AS i,
         {field("scheduled_end_ts", "integer")} AS sched
  FROM events
  WHERE type = 'RUN_STARTED' AND ts > 2 * :start - :now AND ts <= :now AND run_id IS NOT NULL
  GROUP BY run_id  -- a repeated RUN_STARTED is one run: its first one counts
),
ended AS (
  SELECT run_id, MIN(ts) AS ts FROM events
  WHERE type = 'RUN_ENDED' AND ts > 2 * :start - :now AND ts <= :now AND run_id IS NOT NULL
  GROUP BY run_id
),
ends AS (
  SELECT s.run_id, s.S, s.i, min(coalesce(e.ts, s.sched, :now), :now) AS E,
         e.ts IS NULL AND coalesce(s.sched, :now) >= :now AS running
  FROM started s LEFT JOIN ended e USING (run_id)
  WHERE s.i > 0
),
spans AS (SELECT run_id, S, i, E, E - CASE WHEN running THEN i ELSE 0 END AS due FROM ends),
live AS (SELECT * FROM spans WHERE due > max(S, :start)),
got AS (
  SELECT sp.run_id, {received}
  FROM live sp JOIN events h ON h.run_id = sp.run_id
  WHERE +h.type = 'HEARTBEAT' AND h.ts > max(sp.S, :start) AND h.ts <= sp.E
  GROUP BY sp.run_id
),
per_run AS (
  SELECT {owed}, {", ".join(f"coalesce(g.got_{n}, 0) AS got_{n}" for n, _ in _WINDOWS)}
  FROM live LEFT JOIN got g USING (run_id)
)
SELECT {", ".join(totals)} FROM per_run
"""
