"""One staleness rule for pre-flight and layer 2, hand-checked."""

from __future__ import annotations

from tradeops.connectors.event_store import Run
from tradeops.liveness import stale_finding

NOW = 1_795_000_000_000


def run(last_heartbeat_ts: int | None, interval: int | None = 10) -> Run:
    return Run(
        "r-1",
        "mr-eurusd-01",
        "EUR_USD",
        "101-004-1234567-001",
        "paper",
        interval,
        NOW + 3_600_000,
        NOW - 600_000,
        5,
        False,
        None,
        last_heartbeat_ts,
        9,
    )


def test_a_run_within_three_intervals_is_fresh():
    assert stale_finding(run(NOW - 30_000), NOW, 3) is None


def test_a_run_past_three_intervals_is_stale_and_named_by_its_last_heartbeat():
    finding = stale_finding(run(NOW - 31_000), NOW, 3)
    assert finding.what == "stale: last heartbeat 31 s ago at 2026-11-18T11:06:09Z (threshold 30 s)"
    assert (finding.where.run, finding.where.seq) == ("r-1", 9)


def test_a_run_that_never_heartbeat_is_judged_from_its_start():
    assert "600 s ago" in stale_finding(run(None), NOW, 3).what


def test_an_unreadable_interval_is_a_finding_not_a_pass():
    finding = stale_finding(run(NOW, interval=None), NOW, 3)
    assert "no valid heartbeat_interval_s" in finding.what and finding.where.seq == 5
