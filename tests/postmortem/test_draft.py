"""A draft over a hand-built incident: every time and source is known exactly."""

from __future__ import annotations

from tests.postmortem.conftest import keep_run, write_manifest
from tests.storebuilder import StoreBuilder
from tradeops.config import load_manifest
from tradeops.postmortem import build
from tradeops.postmortem._markdown import markdown

T0 = 1_795_000_000_000  # 2026-11-18T11:06:40Z
S, M = 1000, 60_000
ACCOUNT_B = "101-004-1234567-002"


def _incident(tmp_path):
    """r-1 heartbeats every 10 s, goes silent at T0+1m for 3 min (the platform's detector fires
    40 s in), resumes; r-2 loses an event at T0+110s; account B disconnects at T0+2m (r-2 ends
    failed) and reconnects at T0+6m. The suite is red at T0+2m30 (P1), P0 at T0+4m, green at
    T0+7m."""
    b = StoreBuilder(tmp_path / "events.sqlite", now_ms=T0 + 10 * M)
    b.run_started("r-1", strategy_id="mr-eurusd-01", ts=T0 - 10 * S, scheduled_end_ts=T0 + 60 * M)
    b.run_started("r-2", strategy_id="tf-gbpusd-02", instrument="GBP_USD", account_id=ACCOUNT_B,
                  ts=T0 - 5 * S, scheduled_end_ts=T0 + 60 * M)  # fmt: skip
    for k in range(7):  # T0 .. T0+60 s
        b.heartbeat("r-1", ts=T0 + k * 10 * S)
    for k in range(3, 13):  # T0+30 s .. T0+120 s, one event lost before T0+110 s
        if k == 11:
            b.skip("r-2")
        b.heartbeat("r-2", ts=T0 + k * 10 * S)
    b.event("STALE_DETECTED", ts=T0 + 100 * S, run_id="r-1", payload={"last_heartbeat_ts": T0 + M})
    b.event("BROKER_DISCONNECTED", ts=T0 + 2 * M, account_id=ACCOUNT_B, payload={"reason": "EOF"})
    b.run_ended("r-2", "failed", reason="broker disconnected", ts=T0 + 2 * M + 5 * S)
    for k in range(40):  # heartbeats again from T0+4m
        b.heartbeat("r-1", ts=T0 + 4 * M + k * 10 * S)
    b.event("BROKER_RECONNECTED", ts=T0 + 6 * M, account_id=ACCOUNT_B)
    store = b.write()
    reports = tmp_path / "reports"
    red = keep_run(reports, T0 + 150 * S, "red", "P1",
                   [{"check": "heartbeat_fresh", "subject": "mr-eurusd-01", "layer": "strategy",
                     "severity": "P1"}])  # fmt: skip
    worse = keep_run(reports, T0 + 4 * M, "red", "P0", [{"check": "broker_reachability"}])
    green = keep_run(reports, T0 + 7 * M, "green", None, [])
    manifest = load_manifest(write_manifest(tmp_path, store, reports), {
        "PM_TEST_CONTROL_TOKEN_UNSET": "x", "PM_TEST_OANDA_TOKEN_UNSET": "x"})  # fmt: skip
    return build(manifest, T0 - 5 * M, T0 + 9 * M, reports), (red, worse, green)


def seq_at(draft, ts: int, type: str) -> str:
    import sqlite3

    with sqlite3.connect(f"file:{draft.store_path}?mode=ro", uri=True) as conn:
        (seq,) = conn.execute(
            "SELECT seq FROM events WHERE ts = ? AND type = ?", (ts, type)
        ).fetchone()
    return f"event seq {seq}"


def test_start_detection_and_all_clear_are_the_incidents_own_times(tmp_path):
    draft, (_, _, green) = _incident(tmp_path)
    last_heartbeat = seq_at(draft, T0 + M, "HEARTBEAT")
    assert (draft.start.ts_ms, draft.start.source) == (T0 + M, last_heartbeat)
    assert "r-1" in draft.start.text and "went silent" in draft.start.text
    assert draft.detection.ts_ms == T0 + 100 * S  # the platform's detector, before the suite
    assert draft.detection.text.startswith("the platform's detector: run r-1")
    assert draft.still_open == []
    assert (draft.all_clear.ts_ms, draft.all_clear.source) == (T0 + 7 * M, f"report {green}")


def test_the_timeline_has_every_fault_and_recovery_with_its_source(tmp_path):
    draft, (red, worse, green) = _incident(tmp_path)
    lines = [(e.ts_ms - T0, e.kind, e.source) for e in draft.entries]
    at = {
        (M, "signal", "HEARTBEAT"),  # r-1's last heartbeat before the silence
        (110 * S, "signal", "HEARTBEAT"),  # r-2's event after its hole
        (100 * S, "detected", "STALE_DETECTED"),
        (2 * M, "detected", "BROKER_DISCONNECTED"),
        (2 * M + 5 * S, "detected", "RUN_ENDED"),  # r-2 ended failed
        (4 * M, "recovered", "HEARTBEAT"),  # r-1 heartbeats again
        (6 * M, "recovered", "BROKER_RECONNECTED"),
    }
    for offset, kind, type in at:
        assert (offset, kind, seq_at(draft, T0 + offset, type)) in lines, (offset, type)
    assert (150 * S, "detected", f"report {red}") in lines  # first red run
    assert (4 * M, "note", f"report {worse}") in lines  # severity P1 -> P0
    assert (7 * M, "recovered", f"report {green}") in lines  # first green after
    texts = [e.text for e in draft.entries]
    assert "suite full run red (P1): first red check heartbeat_fresh[mr-eurusd-01]" in texts
    assert any("severity P1 -> P0" in t for t in texts)
    assert "run r-2 lost events: run_seq 10 missing" in texts  # RUN_STARTED + 8 heartbeats


def test_the_summary_is_prefilled_and_the_rest_are_prompts(tmp_path):
    draft, _ = _incident(tmp_path)
    text = markdown(draft)
    for section in ("## Summary", "## Timeline (UTC)", "## Root cause", "## What worked",
                    "### Where we got lucky", "## Action items"):  # fmt: skip
        assert section in text
    assert "- **Time to detect:** 40 s" in text
    assert "- **Time to resolve:** 6 min 0 s" in text
    assert "2 strategies (mr-eurusd-01, tf-gbpusd-02)" in text
    assert "2 runs (r-1, r-2)" in text
    assert "| run success | 99.500% | 1 |" in text  # r-2's failure burned run-success budget
    assert "| 11:07:40 | **first signal**:" in text


def test_a_window_without_a_fault_says_so(tmp_path):
    _incident(tmp_path)
    quiet = build(load_manifest(write_manifest(tmp_path, tmp_path / "events.sqlite"), {
        "PM_TEST_CONTROL_TOKEN_UNSET": "x", "PM_TEST_OANDA_TOKEN_UNSET": "x"}),
        T0 + 20 * M, T0 + 30 * M, tmp_path / "none")  # fmt: skip
    assert quiet.start is None and quiet.all_clear is None
    assert "No fault signal in the store or the kept runs in this window." in markdown(quiet)
