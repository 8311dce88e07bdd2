"""The run's machine outputs beside the HTML: the JSON summary for CI and alerting.

The lead's `_summary.summarize` gives verdict, highest severity, counts and every check;
this adds what an alert needs without opening the HTML: each failure with its runbook
and next step, the checks not judged and why, collection errors, SLO figures, the run.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tradeops import _summary
from tradeops._session import OpsSession
from tradeops.reports.paths import RunPaths
from tradeops.runbooks import runbook

SCHEMA = 1


def failures(checks: list[dict]) -> list[dict]:
    """Each failed or errored check, most severe first, with what to do about it."""
    out = []
    for check in checks:
        if check["outcome"] not in ("failed", "error"):
            continue
        book = runbook(check["runbook"]) if check.get("runbook") else None
        out.append(
            {
                "check": check["check"],
                "subject": check.get("subject"),
                "nodeid": check.get("nodeid"),
                "outcome": check["outcome"],
                "severity": check.get("effective_severity") or check.get("severity"),
                "layer": check.get("layer"),
                "message": check.get("summary", ""),
                "runbook": book.link if book else check.get("runbook"),
                "next_step": book.next_step if book else None,
            }
        )
    return sorted(out, key=lambda f: f["severity"] or "P9")


def not_judged(checks: list[dict]) -> list[dict]:
    """Skipped checks and the reason (e.g. "unreliable: platform layer red (...)")."""
    return [
        {
            "check": c["check"],
            "subject": c.get("subject"),
            "reason": (c.get("summary") or "").removeprefix("Skipped: "),
        }
        for c in checks
        if c["outcome"] == "skipped"
    ]


def collection_errors(terminalreporter) -> list[dict]:
    """Files that could not even be collected: the run is not green with a check missing."""
    out = []
    for report in terminalreporter.stats.get("error", []):
        if isinstance(report, pytest.CollectReport):
            text = str(getattr(report, "longrepr", "") or "").strip().splitlines()
            out.append({"nodeid": report.nodeid, "message": text[-1] if text else "error"})
    return out


def summary(
    terminalreporter,
    ops: OpsSession,
    run: RunPaths,
    environment: dict,
    slo: list[dict],
    exitstatus: int | None,
) -> dict:
    """The whole JSON summary of one run."""
    checks = _summary.collect(terminalreporter)
    base = _summary.summarize(ops, checks)
    errors = collection_errors(terminalreporter)
    verdict = "red" if errors else base["verdict"]
    return {
        "schema": SCHEMA,
        "run": {
            "id": run.run_id,
            "kind": run.kind,
            "started": _utc(run.started),
            "finished": _utc(datetime.now(UTC)),
            "report": run.html.name,
            "junit": run.xml.name,
            "exit_status": int(exitstatus) if exitstatus is not None else None,
        },
        **base,
        "verdict": verdict,
        "failures": failures(checks),
        "not_judged": not_judged(checks),
        "collection_errors": errors,
        "slo": list({f.get("name", i): f for i, f in enumerate(slo)}.values()),
        "environment": environment,
    }


def chain_run(data: dict) -> dict:
    """The few facts the chain entry keeps about a run (the index lists runs from them)."""
    return {
        "id": data["run"]["id"],
        "kind": data["run"]["kind"],
        "started": data["run"]["started"],
        "verdict": data["verdict"],
        "highest_severity": data["highest_severity"],
        "counts": dict(data["counts"]["outcome"]),
    }


def slo_figures(raw: dict) -> dict:
    """One SLO's figures for alerting, from SloResult.to_json(); the raw data if the SLO
    package cannot judge it (a report must never fail over an SLO it cannot read)."""
    try:
        from tradeops.slo.result import SloResult

        result = SloResult.from_json(raw)
        budget = result.budget
        return {
            "name": result.name,
            "title": result.title,
            "severity": result.severity,
            "objective": result.config.objective,
            "window_days": result.config.window_days,
            "eligible": budget.eligible,
            "bad": budget.bad,
            "actual": budget.actual,
            "budget_consumed": budget.consumed,
            "budget_remaining": budget.remaining,
            "verdict": result.verdict,
            "firing": result.firing_pairs,
            "problem": result.problem(),
            "errors": list(result.errors),
            "notes": list(result.notes),
        }
    except Exception:
        return {"raw": raw}


def write(path: Path, data: dict) -> None:
    """Write the summary atomically (a reader never sees half a JSON document)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(json.dumps(data, indent=1, sort_keys=False), encoding="utf-8")
    os.replace(partial, path)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
