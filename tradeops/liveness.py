"""When a live run is stale: one rule, read by pre-flight item 1 and layer 2 alike.

A run is stale when it last showed life (its newest HEARTBEAT, else its start) longer
ago than `stale_after_heartbeats` of its own heartbeat intervals.
"""

from __future__ import annotations

from tradeops.connectors.event_store import Run
from tradeops.findings import Finding, Where, utc


def stale_after_s(run: Run, stale_after_heartbeats: float) -> float | None:
    """The run's staleness threshold in seconds; None when its interval is unreadable."""
    if not run.heartbeat_interval_s:
        return None
    return stale_after_heartbeats * run.heartbeat_interval_s


def stale_finding(run: Run, now_ms: int, stale_after_heartbeats: float) -> Finding | None:
    """The finding for a stale (or unjudgeable) live run, or None when it is fresh."""
    if run.problem is not None:
        return Finding(
            f"cannot judge staleness: {run.problem.type} seq {run.problem.seq}: "
            f"{run.problem.problem}",
            Where.of_run(run, run.problem.seq),
        )
    threshold_s = stale_after_s(run, stale_after_heartbeats)
    if threshold_s is None:
        return Finding(
            "cannot judge staleness: its RUN_STARTED has no valid heartbeat_interval_s",
            Where.of_run(run, run.started_seq),
        )
    age_s = run.heartbeat_age_s(now_ms)
    if age_s <= threshold_s:
        return None
    return Finding(
        f"stale: last heartbeat {age_s:.0f} s ago at {utc(run.last_alive_ts)} "
        f"(threshold {threshold_s:.0f} s)",
        Where.of_run(run, run.last_heartbeat_seq),
    )
