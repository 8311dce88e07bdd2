"""The report's budget-over-the-window series: each point is the SLO as of that instant."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from tests.slo.conftest import DAY, HOUR
from tradeops.config import SLO_DEFAULTS
from tradeops.connectors.event_store import EventStore
from tradeops.slo.evaluate import evaluate
from tradeops.slo.series import budget_history


def thirty_daily_runs(builder, now_ms):
    """A store of 30 completed runs, one a day over the last 30 days."""
    for n in range(30):
        builder.run_started(f"r-{n}", ts=now_ms - (n + 1) * DAY)
        builder.run_ended(f"r-{n}", "completed", ts=now_ms - (n + 1) * DAY + HOUR)
    return builder.write()


def evaluate_now(slos, now_ms, store):
    return evaluate(slos, now_ms, store=store, history=None, fills=None)


def manifest(**slos):
    thresholds = SimpleNamespace(stale_after_heartbeats=3.0)
    return SimpleNamespace(slo=slos, thresholds=thresholds)


def test_the_budget_falls_as_failed_runs_enter_the_window_and_is_none_before_enough_runs(
    builder, now_ms
):
    # 35 runs a day apart, the first 35 days ago; every one completed but the last 4.
    for n in range(35):
        ended = now_ms - (35 - n) * DAY + HOUR
        builder.run_started(f"r-{n}", ts=ended - HOUR)
        builder.run_ended(f"r-{n}", "failed" if n >= 31 else "completed", ts=ended)
    path = builder.write()
    config = replace(SLO_DEFAULTS["run_success"], objective=0.9, min_events=10)
    with EventStore(path) as store:
        series = budget_history(
            manifest(run_success=config), now_ms, store=store, history=None, points=7
        )["run_success"]
    assert [p["at"][:10] for p in series][-1] == "2026-11-18"
    remaining = [p["remaining"] for p in series]
    assert remaining[0] is None  # 30 days before now: 5 runs in its window, 10 needed
    judged = [r for r in remaining if r is not None]
    assert judged == sorted(judged, reverse=True) and judged[-1] < judged[0]
    assert remaining[-1] == 1 - 4 / (0.1 * 30)  # 4 bad of 30 eligible, 3 allowed


def test_trade_persistence_is_left_out_and_so_is_availability_without_a_probe_history(
    builder, now_ms
):
    path = builder.write()
    slos = {n: SLO_DEFAULTS[n] for n in ("trade_persistence", "control_plane_availability")}
    with EventStore(path) as store:
        assert budget_history(manifest(**slos), now_ms, store=store, history=None) == {}


def test_a_slow_store_gets_a_coarser_line_never_a_slower_run(builder, now_ms):
    path = thirty_daily_runs(builder, now_ms)
    config = replace(SLO_DEFAULTS["run_success"], min_events=1)
    ticks = iter(range(1000))  # a clock where each evaluation takes 1 s (time is frozen here)
    with EventStore(path) as store:
        series = budget_history(
            manifest(run_success=config),
            now_ms,
            store=store,
            history=None,
            max_seconds=0.5,
            clock=lambda: float(next(ticks)),
        )["run_success"]
    # No time for one more evaluation: the budget now only (the report draws it as a gauge).
    assert [p["at"] for p in series] == ["2026-11-18T11:06:40Z"]
    assert series[-1]["remaining"] == 1.0


def test_the_runs_own_result_is_the_newest_point_and_its_time_sizes_the_line(builder, now_ms):
    path = thirty_daily_runs(builder, now_ms)
    config = replace(SLO_DEFAULTS["run_success"], min_events=1)
    with EventStore(path) as store:
        [result] = [r for r in evaluate_now(manifest(run_success=config), now_ms, store)]
        # The clock would say each evaluation takes 1 s: it is not asked for "now".
        ticks = iter(range(1000))
        line = budget_history(
            manifest(run_success=config), now_ms, store=store, history=None, points=4,
            max_seconds=0.5, clock=lambda: float(next(ticks)),
            current={"run_success": result}, took_s={"run_success": 0.1},
        )["run_success"]  # fmt: skip
        slow = budget_history(
            manifest(run_success=config), now_ms, store=store, history=None, points=4,
            current={"run_success": result}, took_s={"run_success": 5.0},
        )["run_success"]  # fmt: skip
    assert len(line) == 4 and line[-1] == {"at": line[-1]["at"], "remaining": 1.0}
    assert line[-1]["at"] == "2026-11-18T11:06:40Z"
    assert slow == [line[-1]]  # 5 s a point: no earlier one fits in the 2 s budget
