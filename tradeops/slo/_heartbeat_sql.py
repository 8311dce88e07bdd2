"""The SQL of heartbeat delivery: heartbeats owed by each run's span vs heartbeats received.

A run owes heartbeat k at S + k x interval (k >= 1) while it lives: from its RUN_STARTED
(time S) to its end E = its RUN_ENDED, else its scheduled end (a run that died without
RUN_ENDED owed heartbeats until then), else now; never past now. For a run still running
the newest interval is not judged yet (a heartbeat is late only once the next one is
due), so the owed slots are those in (lo, due], lo being the window's start or S and due
being E, or E - interval for a running run. Received heartbeats are counted in (lo, E]
and capped per run at what it owed: a run that sends extra heartbeats does not make up
for another run's losses.

Runs that started up to one SLO window before the window are considered (a run longer
than that is an anomaly the pre-flight's residual-run check reports). Received heartbeats
are counted per run in time slices: the window is cut at every alert window's start (the
two oldest slices in _PARTS parts again), and each slice is one events_type_ts range of
HEARTBEAT rows grouped by run. The slices are disjoint, so every heartbeat of the window
is read and sorted once (grouping is a sort: it is most of the cost, and one walk per
alert window would sort the newest rows up to six times). A window's count is the sum of
the slices after its start. The slices' first
and last heartbeat per run tell whether every heartbeat lies inside the run's span; for
a run that heartbeats before its start or past its end, one exact walk of its events_run
counts instead. eligible = owed, bad = owed - received.
"""

from __future__ import annotations

from tradeops.slo._sql import field, window_param
from tradeops.slo.budget import ALERT_WINDOWS

# (column suffix, bind parameter of the window's start), SLO window first.
_WINDOWS = [("full", "start"), *((n, window_param(n)) for n in ALERT_WINDOWS)]


def _owed(lo: str) -> str:
    """Slots k with lo < S + k*i <= due, for a run span (S, i, due)."""
    return f"max(0, (due - S) / i - (max(S, {lo}) - S) / i)"


# The two oldest slices (before the 3 d and the 6 h alert windows: nine tenths of a 7 d
# window's heartbeats) are cut in this many parts each: grouping is a sort, and eight sorts
# of an eighth cost less than one of the whole. benchmarks/slo.py at 10M events: the SLI
# 1.18x -> 1.15x its floor. Each sort keeps its memory until the statement ends: peak RSS
# 63 -> 74 MB (16 parts: 1.15x, 85 MB). About twelve hours a part in a 7-day window.
_PARTS = 8


def _slices() -> list[tuple[str, str, list[str]]]:
    """(lower bound, upper bound, alert windows it lies in) per slice, oldest first; the
    bounds are SQL on the window's parameters.

    Alert window starts never precede the SLO window's start (see Window.alert_start),
    so the bounds only grow; a slice whose bounds are equal is empty.
    """
    newest_last = sorted(ALERT_WINDOWS, key=ALERT_WINDOWS.__getitem__, reverse=True)
    bounds = [":start", *(":" + window_param(n) for n in newest_last), ":now"]
    out = []
    for k in range(len(bounds) - 1):
        lo, hi, windows = bounds[k], bounds[k + 1], newest_last[:k]
        parts = _PARTS if k < 2 else 1
        cuts = [lo, *(f"{lo} + ({hi} - {lo}) * {j} / {parts}" for j in range(1, parts)), hi]
        out += [(cuts[j], cuts[j + 1], windows) for j in range(parts)]
    return out


def _grouped() -> str:
    """Per run: heartbeats after each window's start, and its first and last one."""
    # Heartbeats with no run_id make one group under NULL, which joins no run: cheaper
    # than testing run_id on each of a million rows (2% of the SLI at 10M events).
    slices = _slices()
    arms = " UNION ALL ".join(
        f"SELECT run_id, {k} AS slice, COUNT(*) AS n, MIN(ts) AS lo, MAX(ts) AS hi "
        f"FROM events WHERE type = 'HEARTBEAT' AND ts > {lo} AND ts <= {hi} GROUP BY run_id"
        for k, (lo, hi, _) in enumerate(slices)
    )
    # A window's count: the slices from the first one inside it on.
    first = {}
    for k, (_, _, windows) in enumerate(slices):
        for name in windows:
            first.setdefault(name, k)
    sums = ", ".join(
        f"SUM(CASE WHEN slice >= {k} THEN n ELSE 0 END) AS after_{name}"
        for name, k in first.items()
    )
    return (
        f"SELECT run_id, MIN(lo) AS first_ts, MAX(hi) AS last_ts, SUM(n) AS after_full, {sums} "
        f"FROM ({arms}) GROUP BY run_id"
    )


def _received(window: str) -> str:
    """Heartbeats a live run `l` received in (max(S, window), E].

    From the slices when every heartbeat of the run in the SLO window lies inside its
    span (the normal case: then the window's start alone bounds the count); else, for a
    run that heartbeats before its start or past its end, one exact walk of its events_run.
    """
    return f"""CASE WHEN g.run_id IS NULL THEN 0
    WHEN g.first_ts > max(l.S, :start) AND g.last_ts <= l.E THEN g.after_{window}
    ELSE (SELECT COUNT(*) FROM events x WHERE x.run_id = l.run_id AND +x.type = 'HEARTBEAT'
          AND x.ts > max(l.S, :{dict(_WINDOWS)[window]}) AND x.ts <= l.E) END"""


def heartbeat_delivery_sql() -> str:
    """One row: eligible and bad for the SLO window, then per alert window."""
    owed = ", ".join(f"{_owed(':' + p)} AS owed_{n}" for n, p in _WINDOWS)
    received = ", ".join(f"{_received(n)} AS got_{n}" for n, _ in _WINDOWS)
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
live AS MATERIALIZED (SELECT * FROM spans WHERE due > max(S, :start)),
grouped AS MATERIALIZED ({_grouped()}),
got AS (
  SELECT l.S, l.i, l.due, {received}
  FROM live l LEFT JOIN grouped g ON g.run_id = l.run_id
),
per_run AS (
  SELECT {owed}, {", ".join(f"got_{n}" for n, _ in _WINDOWS)}
  FROM got
)
SELECT {", ".join(totals)} FROM per_run
"""
