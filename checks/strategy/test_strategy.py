"""Layer 2, the strategies: is each scheduled strategy behaving?

One check per fact, run once per scheduled strategy (the strategy id is the test id):
its live run heartbeats and has lost no events, the platform's own staleness detector
agrees with the store, the store's position equals the broker's, paper trading tracks
the backtest, and nothing blocks it (reconciliation alerts, promote gates).
Judged only when layer 1 is green.
"""

from __future__ import annotations

import pytest

from tradeops import Finding, Where, expect_none, figures
from tradeops.connectors._store_facts import NO_TRADES
from tradeops.findings import utc
from tradeops.liveness import stale_after_s, stale_finding

pytestmark = pytest.mark.strategy


def _here(strategy, run=None, seq=None) -> Where:
    return Where(
        strategy.strategy_id,
        strategy.account_id,
        strategy.instrument,
        run.run_id if run else None,
        seq,
    )


@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="heartbeat-stale")
def test_heartbeat_fresh(strategy, live_runs, manifest, now_ms, request):
    """The strategy's live run heartbeats within its staleness threshold."""
    run = live_runs.get(strategy.strategy_id)
    if run is None:
        expect_none([Finding("scheduled for this session but has no live run", _here(strategy))])
    factor = manifest.thresholds.stale_after_heartbeats
    age_s, threshold_s = run.heartbeat_age_s(now_ms), stale_after_s(run, factor)
    figures.record(request, run=run.run_id, age_s=age_s, threshold_s=threshold_s)
    stale = stale_finding(run, now_ms, factor)
    expect_none([stale] if stale else [])


@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="sequence-gap")
def test_no_gaps(strategy, live_runs, live_gaps):
    """The strategy's live run has every run_seq: no event was lost."""
    run = live_runs.get(strategy.strategy_id)
    if run is None:
        pytest.skip("no live run (reported by heartbeat_fresh)")
    expect_none(
        Finding(
            f"lost events: run_seq {gap.missing_from}..{gap.missing_to} missing",
            _here(strategy, run, gap.seq_after),
        )
        for gap in live_gaps(run.run_id)
    )


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="stale-detector")
def test_stale_detector_agrees(strategy, live_runs, live_stale_detections, manifest, now_ms):
    """When the store shows the live run stale, the platform's own detector has fired."""
    run = live_runs.get(strategy.strategy_id)
    if run is None:
        pytest.skip("no live run (reported by heartbeat_fresh)")
    threshold_s = stale_after_s(run, manifest.thresholds.stale_after_heartbeats)
    if threshold_s is None or run.problem is not None:
        pytest.skip("its heartbeat interval or times are unreadable (reported by heartbeat_fresh)")
    # The same allowance as the stale-detection-latency SLO: one setting, one meaning.
    grace_s = manifest.slo["stale_detection_latency"].threshold_s or 0.0
    last = run.last_alive_ts
    fired = [d for d in live_stale_detections(run.run_id) if d.ts >= last]
    age_s = run.heartbeat_age_s(now_ms)
    if age_s > threshold_s + grace_s and not fired:
        expect_none(
            [
                Finding(
                    f"the store shows the run stale for {age_s - threshold_s:.0f} s "
                    "past its threshold and the platform's detector never fired",
                    _here(strategy, run, run.last_heartbeat_seq),
                )
            ]
        )
    early = [d for d in fired if (d.ts - last) / 1000 < threshold_s]
    expect_none(
        Finding(
            f"STALE_DETECTED fired {(d.ts - last) / 1000:.0f} s after the last "
            f"heartbeat, before the {threshold_s:.0f} s threshold",
            _here(strategy, run, d.seq),
        )
        for d in early
    )


@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="position-divergence")
def test_positions_match_broker(strategy, store_positions, broker_positions):
    """The store's net position equals the broker's open position (account, instrument)."""
    key = (strategy.account_id, strategy.instrument)
    ours = store_positions.get(key, 0)
    if isinstance(ours, Exception):
        raise ours  # a fill with unusable units, named by its seq: the position is unknown
    theirs = broker_positions(strategy.account_id).get(strategy.instrument, 0)
    if ours != theirs:
        expect_none(
            [
                Finding(
                    f"the store's net position is {ours} units, the broker's open "
                    f"position is {theirs} units",
                    _here(strategy),
                )
            ]
        )


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="tracking-drift")
def test_tracking_backtest(strategy, backtests, tracking_stats, account_summary, manifest):
    """Paper trading tracks the backtest: trades per day, win rate, P&L per trade, and
    drawdown (the worst fall of its cumulative P&L, as a fraction of the account's NAV)."""
    cfg = manifest.tracking
    promised = backtests.get(strategy.strategy_id)
    if promised is None:
        pytest.skip("insufficient data: the control plane gives no backtest for it")
    paper = tracking_stats.get(strategy.strategy_id, NO_TRADES)
    if isinstance(paper, Exception):
        raise paper  # a bad TRADE_CLOSED row in the window: the store's error
    if paper.trades < cfg.min_trades:
        pytest.skip(
            f"insufficient data: {paper.trades} closed trades in {cfg.window_days:.0f} "
            f"days (need {cfg.min_trades})"
        )
    found = []
    per_day = paper.trades / max(paper.days, 1)
    allowed_per_day = cfg.trades_per_day_tolerance * promised.trades_per_day
    if abs(per_day - promised.trades_per_day) > allowed_per_day:
        found.append(f"{per_day:.1f} trades/day vs the backtest's {promised.trades_per_day}")
    win_rate = paper.wins / paper.trades
    if abs(win_rate - promised.win_rate) > cfg.win_rate_tolerance:
        found.append(f"win rate {win_rate:.2f} vs the backtest's {promised.win_rate}")
    avg_pl = paper.total_pl / paper.trades
    if abs(avg_pl - promised.avg_pl_per_trade) > cfg.avg_pl_tolerance * max(
        abs(promised.avg_pl_per_trade), 1.0
    ):
        found.append(f"P&L per trade {avg_pl:.2f} vs the backtest's {promised.avg_pl_per_trade}")
    drawdown = paper.max_drawdown_pl / float(account_summary(strategy.account_id).nav)
    if drawdown > cfg.max_drawdown_factor * promised.max_drawdown:
        found.append(
            f"drawdown {drawdown:.4f} vs the backtest's "
            f"{promised.max_drawdown} (allowed x{cfg.max_drawdown_factor:g})"
        )
    expect_none(
        Finding(f"paper drifts from backtest: {text} over {paper.trades} trades", _here(strategy))
        for text in found
    )


@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="strategy-readiness")
def test_no_unresolved_alerts(strategy, unresolved_alerts):
    """No reconciliation alert of the strategy is left unresolved."""
    expect_none(
        Finding(
            f"reconciliation alert {a.alert_id} unresolved since {utc(a.raised_ts)}",
            Where(strategy.strategy_id, a.account_id, seq=a.seq),
        )
        for a in unresolved_alerts.get(strategy.strategy_id, [])
    )


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="strategy-readiness")
def test_no_pending_gates(strategy, pending_gates):
    """No promote gate of the strategy is waiting for a decision."""
    expect_none(
        Finding(
            f"promote gate {g.gate_id} pending since {utc(g.requested_ts)}",
            Where(strategy.strategy_id, seq=g.seq),
        )
        for g in pending_gates.get(strategy.strategy_id, [])
    )
