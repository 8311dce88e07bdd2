"""Runbooks: what an operator does when a check fails.

P0/P1 checks get the five steps (CONFIRM, ISOLATE, RESOLVE, VERIFY, DOCUMENT); every
runbook has a one-line next step, shown under each failure. docs/runbooks.md is rendered
from this table (`python -m tradeops.runbooks`), and a test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

DOC = "docs/runbooks.md"


@dataclass(frozen=True)
class Runbook:
    id: str
    title: str
    next_step: str
    confirm: str
    isolate: str
    resolve: str
    verify: str
    document: str = "Log the incident with the report path; update this runbook if a step was wrong."

    @property
    def link(self) -> str:
        return f"{DOC}#{self.id}"


RUNBOOKS: dict[str, Runbook] = {
    r.id: r
    for r in (
        Runbook(
            "control-summary",
            "A live run is stale, has a sequence gap, or the summary disagrees with the store",
            "Open the named run's logs; restart the run if heartbeats do not resume within "
            "two intervals, and treat a summary that disagrees with the store as a broken "
            "platform detector.",
            "Query the store for the run's last HEARTBEAT and its run_seq range; compare with "
            "GET /api/control/summary.",
            "One run, one strategy, one account, or every run? Every run stale points at the "
            "platform or its writer, not the strategy.",
            "Restart the stale run's process; for a gap, stop the run, reconcile its positions "
            "with the broker, restart; for a lying summary, restart the platform's monitor.",
            "`pytest -m preflight -k control_summary` is green twice, two intervals apart.",
        ),
        Runbook(
            "broker-unreachable",
            "The control plane or an OANDA account does not answer",
            "Check the control plane process and the named account's token and OANDA status "
            "page; do not start the session until every account answers.",
            "Repeat GET /api/health and GET /v3/accounts/{id}/summary by hand with the "
            "configured token (never paste the token into a ticket).",
            "Which accounts fail, and how: 401 means a revoked token, 429 rate limiting, a "
            "timeout or refusal an outage. All accounts failing together is P0.",
            "Restart the control plane; rotate a revoked token; wait out a rate limit; for an "
            "OANDA outage, keep strategies flat and stop the session.",
            "`pytest -m preflight -k broker_reachability` is green.",
        ),
        Runbook(
            "event-store-wal",
            "The event store is not in WAL mode",
            "Stop the platform's writer, set PRAGMA journal_mode=WAL on the store, restart.",
            "Run `sqlite3 PATH 'PRAGMA journal_mode'` on the store file.",
            "Was the file replaced, restored from a backup, or opened by a tool that reset it?",
            "With the platform stopped: `sqlite3 PATH 'PRAGMA journal_mode=WAL'`; fix whatever "
            "reset it (restore scripts, maintenance jobs).",
            "`pytest -m preflight -k wal_mode` is green.",
        ),
        Runbook(
            "residual-run",
            "A run from the last session never reached RUN_ENDED",
            "Check the named run's account for open positions, flatten them if the run is dead, "
            "then end the run in the platform.",
            "The run has RUN_STARTED and no RUN_ENDED, and its scheduled end has passed.",
            "Is its process still alive? Does its account hold positions it opened?",
            "Kill the leftover process, flatten its positions at the broker, record RUN_ENDED "
            "(status aborted) through the platform.",
            "`pytest -m preflight -k residual_runs` is green.",
        ),
        Runbook(
            "strategy-readiness",
            "A scheduled strategy has a pending promote gate or an unresolved reconciliation alert",
            "Decide the pending promote gate or resolve the reconciliation alert before the "
            "session; unschedule the strategy if neither can be done now.",
            "The store shows the PROMOTE_REQUESTED or RECONCILIATION_ALERT with no decision or "
            "resolution.",
            "Which strategy and account? Is the alert's divergence still present at the broker?",
            "Reconcile the account with the broker and resolve the alert; have the gate decided "
            "by its owner.",
            "`pytest -m preflight -k strategy_readiness` is green.",
        ),
    )
}


def runbook(runbook_id: str) -> Runbook | None:
    """The runbook with this id, or None."""
    return RUNBOOKS.get(runbook_id)


def markdown() -> str:
    """docs/runbooks.md, rendered from the table above."""
    lines = ["# Runbooks", "", "Rendered from `tradeops/runbooks.py`; edit there.", ""]
    for r in RUNBOOKS.values():
        lines += [
            f'<a id="{r.id}"></a>',
            f"## {r.id}: {r.title}",
            "",
            f"**Next step:** {r.next_step}",
            "",
            f"1. **CONFIRM** {r.confirm}",
            f"2. **ISOLATE** {r.isolate}",
            f"3. **RESOLVE** {r.resolve}",
            f"4. **VERIFY** {r.verify}",
            f"5. **DOCUMENT** {r.document}",
            "",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown())
