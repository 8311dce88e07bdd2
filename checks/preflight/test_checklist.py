"""The pre-flight checklist, run before every trading session: `pytest -m preflight`.

Five items, each verified against the event store itself: the control plane's word is
compared with the store, never taken. Items 2 and 3 are layer 1 (platform) and read the
probe made once before the session; items 1, 4 and 5 are judged only when layer 1 is green.
"""

from __future__ import annotations

import pytest

from tradeops import Finding, Where, expect_none
from tradeops.findings import utc
from tradeops.liveness import stale_finding

pytestmark = pytest.mark.preflight


def run_problem_findings(reads) -> list[Finding]:
    """Malformed RUN_STARTED rows, as findings (items 1 and 4 both report them)."""
    return [
        Finding(f"payload problem: {p.problem}", Where(run=p.run_id, seq=p.seq))
        for p in reads.run_problems()
    ]


@pytest.mark.strategy
@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="control-summary")
def test_control_summary(manifest, now_ms, checklist_reads):
    """1. Control summary green: every live run fresh, no gaps, no stale signals."""
    live, _ = checklist_reads.unended_runs()
    factor = manifest.thresholds.stale_after_heartbeats
    findings = run_problem_findings(checklist_reads)
    stale_in_store = set()
    for run in live:
        stale = stale_finding(run, now_ms, factor)
        if stale is not None:
            stale_in_store.add(run.run_id)
            findings.append(stale)
    runs = {run.run_id: run for run in live}
    gaps = checklist_reads.live_gaps()
    for gap in gaps:
        findings.append(
            Finding(
                f"lost events: run_seq {gap.missing_from}..{gap.missing_to} missing",
                Where.of_run(runs[gap.run_id], gap.seq_after),
            )
        )
    for detection in checklist_reads.live_stale_detections():
        run = runs[detection.run_id]
        if run.last_heartbeat_ts is None or detection.ts >= run.last_heartbeat_ts:
            findings.append(
                Finding(
                    "the platform's staleness detector fired (STALE_DETECTED) and no "
                    "heartbeat has followed",
                    Where.of_run(run, detection.seq),
                )
            )
    findings += _summary_disagreements(
        checklist_reads.control_summary(), runs, stale_in_store, gaps
    )
    expect_none(findings)


def _summary_disagreements(summary, runs, stale_in_store, gaps) -> list[Finding]:
    """Where the platform's own summary says something the store contradicts."""
    found = []
    if summary.status != "green":
        found.append(Finding(f"the control summary status is {summary.status!r}, not 'green'"))
    reported = {r.run_id: r for r in summary.runs}
    gap_count = {}
    for gap in gaps:
        gap_count[gap.run_id] = gap_count.get(gap.run_id, 0) + 1
    for run_id, run in runs.items():
        said = reported.get(run_id)
        if said is None:
            found.append(
                Finding(
                    "running in the store but missing from the control summary", Where.of_run(run)
                )
            )
            continue
        if run_id in stale_in_store and not said.stale:
            found.append(
                Finding(
                    "the control summary says fresh; the store says stale",
                    Where.of_run(run, run.last_heartbeat_seq),
                )
            )
        if said.gaps != gap_count.get(run_id, 0):
            found.append(
                Finding(
                    f"the control summary reports {said.gaps} gap(s); the store "
                    f"has {gap_count.get(run_id, 0)}",
                    Where.of_run(run),
                )
            )
    for run_id in sorted(set(reported) - set(runs)):
        if reported[run_id].state == "running":
            found.append(
                Finding(
                    "the control summary says running; the store has no live run", Where(run=run_id)
                )
            )
    return found


@pytest.mark.platform
@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="broker-unreachable")
def test_broker_reachability(platform_verdict):
    """2. Broker accounts reachable: /api/health is 200 "ok", OANDA answers for every account."""
    platform_verdict.expect_green("broker_reachability")


@pytest.mark.platform
@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="event-store-wal")
def test_wal_mode(platform_verdict):
    """3. Event store in WAL mode: no journaling-mode mismatch."""
    platform_verdict.expect_green("wal_mode")


@pytest.mark.strategy
@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="residual-run")
def test_residual_runs(checklist_reads):
    """4. No residual runs from the last session: every previous run reached RUN_ENDED."""
    _, residual = checklist_reads.unended_runs()
    findings = run_problem_findings(checklist_reads)
    findings += [
        Finding(
            f"never reached RUN_ENDED; it was scheduled to end at {utc(run.scheduled_end_ts)}",
            Where.of_run(run, run.started_seq),
        )
        for run in residual
    ]
    expect_none(findings)


@pytest.mark.strategy
@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="strategy-readiness")
def test_strategy_readiness(control_plane, checklist_reads, platform_verdict):
    """5. Scheduled strategies ready: no pending promote gates, no unresolved alerts."""
    # The scheduled strategies the probe read (the set every strategy check is made for);
    # asked again only when the probe could not read them, whose error then fails this.
    if platform_verdict.strategies is not None:
        scheduled = {s["strategy_id"] for s in platform_verdict.strategies}
    else:
        scheduled = {s.strategy_id for s in control_plane.strategies() if s.scheduled}
    findings = [
        Finding(
            f"promote gate {gate.gate_id} pending since {utc(gate.requested_ts)}",
            Where(strategy=gate.strategy_id, seq=gate.seq),
            severity="P2",
        )
        for gate in checklist_reads.pending_gates()
        if gate.strategy_id in scheduled
    ]
    findings += [
        Finding(
            f"reconciliation alert {alert.alert_id} unresolved since {utc(alert.raised_ts)}",
            Where(strategy=alert.strategy_id, account=alert.account_id, seq=alert.seq),
        )
        for alert in checklist_reads.unresolved_alerts()
        if alert.strategy_id in scheduled
    ]
    expect_none(findings)
