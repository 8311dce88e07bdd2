"""Heartbeat delivery read through events_type_ts counts exactly what the per-run walk did."""

from __future__ import annotations

import sqlite3

import pytest

from tests.slo import _reference_heartbeat_sql as reference
from tests.slo.conftest import DAY, HOUR, MINUTE, SECOND
from tradeops.slo._heartbeat_sql import _PARTS, heartbeat_delivery_sql
from tradeops.slo._sql import Window


def both(path, now_ms: int, days: float = 7.0) -> tuple[tuple, tuple]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        params = Window(now_ms, days).params()
        old = conn.execute(reference.heartbeat_delivery_sql(), params).fetchone()
        new = conn.execute(heartbeat_delivery_sql(), params).fetchone()
    finally:
        conn.close()
    return old, new


def test_healthy_ended_and_lossy_runs_count_the_same(builder, now_ms):
    b = builder
    b.run_started("r-ok", ts=now_ms - 2 * HOUR, scheduled_end_ts=now_ms - HOUR)
    b.heartbeats("r-ok", count=360).run_ended("r-ok")
    b.run_started("r-lossy", ts=now_ms - 30 * MINUTE).heartbeats("r-lossy", count=50)
    b.run_started("r-old", ts=now_ms - 3 * DAY, scheduled_end_ts=now_ms - 2 * DAY)
    b.heartbeats("r-old", count=100)  # died without RUN_ENDED
    old, new = both(b.write(), now_ms)
    assert new == old
    assert old[0] > 0 and old[1] > 0


def test_heartbeats_outside_a_runs_span_count_the_same(builder, now_ms):
    b = builder
    b.run_started("r-early", ts=now_ms - HOUR)
    b.heartbeat("r-early", ts=now_ms - HOUR - 5 * SECOND)  # before its own start
    b.heartbeats("r-early", count=100)
    b.run_started("r-late", ts=now_ms - 2 * HOUR, scheduled_end_ts=now_ms - HOUR)
    b.heartbeats("r-late", count=300).run_ended("r-late", ts=now_ms - 90 * MINUTE)
    b.heartbeats("r-late", count=20)  # after its RUN_ENDED
    b.run_started("r-extra", ts=now_ms - 10 * MINUTE)
    for k in range(200):  # far more than it owes
        b.heartbeat("r-extra", ts=now_ms - 10 * MINUTE + (k + 1) * 2 * SECOND)
    b.event("HEARTBEAT", ts=now_ms - MINUTE, run_id="r-unknown")
    for minutes in (1, 2, 600):  # no run at all: grouped under NULL, which joins no run
        b.event("HEARTBEAT", ts=now_ms - minutes * MINUTE, run_id=None)
    old, new = both(b.write(), now_ms)
    assert new == old


@pytest.mark.parametrize("days", [0.01, 1.0, 30.0])
def test_runs_crossing_the_window_start_count_the_same(builder, now_ms, days):
    b = builder
    b.run_started("r-long", ts=now_ms - 20 * HOUR, scheduled_end_ts=now_ms + HOUR)
    b.heartbeats("r-long", count=20 * 360 - 5)
    b.run_started("r-slow", ts=now_ms - 5 * HOUR, heartbeat_interval_s=60).skip("r-slow", 3)
    b.heartbeats("r-slow", count=200)
    old, new = both(b.write(), now_ms, days)
    assert new == old


def test_heartbeats_on_every_slice_boundary_count_once_and_in_the_right_windows(builder, now_ms):
    """The slices meet at each alert window's start and at the cuts of the two oldest: a
    heartbeat exactly there is in the older slice (a window holds ts > its start), and
    none is counted twice or lost."""
    b = builder
    b.run_started("r-edges", ts=now_ms - 7 * DAY + MINUTE, heartbeat_interval_s=60)
    starts = Window(now_ms, 7.0).params()
    edges = {v for k, v in starts.items() if k.startswith("w_")} | {now_ms}
    lo, mid, hi = starts["start"], starts["w_3d"], starts["w_6h"]
    for a, z in ((lo, mid), (mid, hi)):  # the cuts, as the SQL computes them
        edges |= {a + (z - a) * j // _PARTS for j in range(1, _PARTS)}
    for instant in sorted(edges):
        for offset in (-1, 0, 1):
            if instant + offset <= now_ms:
                b.heartbeat("r-edges", ts=instant + offset)
    old, new = both(b.write(), now_ms)
    assert new == old
    assert old[0] > 0  # the run owes heartbeats: the windows were judged
