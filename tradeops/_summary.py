"""The run's machine-readable summary: one JSON document for CI, cron and alerting."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from tradeops._render import LAYERS, CheckMeta
from tradeops._session import OpsSession
from tradeops.findings import SEVERITIES, highest

OUTCOMES = ("passed", "failed", "error", "skipped")


def collect(terminalreporter) -> list[dict]:
    """Every check's final outcome, bottom-up by layer (platform first)."""
    checks: dict[str, dict] = {}
    for outcome in OUTCOMES:
        for report in terminalreporter.stats.get(outcome, []):
            meta = CheckMeta.from_report(report)
            if meta is None:
                continue
            entry = {"nodeid": report.nodeid, **asdict(meta)}
            # A setup error or a call failure outranks the passed teardown of the same item.
            if report.nodeid not in checks or entry["outcome"] in ("failed", "error"):
                checks[report.nodeid] = entry
    rank = {layer: i for i, layer in enumerate((*LAYERS, "slo"))}
    return sorted(checks.values(), key=lambda c: rank.get(c["layer"], len(rank)))


def summarize(ops: OpsSession, checks: list[dict]) -> dict:
    """Verdict, highest severity, counts by outcome, severity and layer, and every check.

    A layer-1 check the probe found red counts even when this run did not select its
    test (`-m preflight` selects two of nine): the checks above it were not judged, so
    the run is not green.
    """
    failed = [c for c in checks if c["outcome"] in ("failed", "error")]
    ran = {c["check"] for c in checks}
    observed = [
        {
            "check": check,
            "effective_severity": ops.verdict.severity(check),
            "summary": str(ops.verdict.of(check)[0]),
        }
        for check in (ops.verdict.red_checks if ops.verdict else [])
        if check not in ran
    ]
    return {
        "verdict": "red" if failed or observed else "green",
        "highest_severity": highest(c["effective_severity"] for c in [*failed, *observed]),
        "platform_layer": (
            None if ops.verdict is None else ("red" if ops.verdict.red else "green")
        ),
        "platform_red_not_selected": observed,
        "now_ms": ops.now_ms,
        "counts": {
            "outcome": {o: sum(c["outcome"] == o for c in checks) for o in OUTCOMES},
            "severity": {s: sum(c["effective_severity"] == s for c in failed) for s in SEVERITIES},
            "layer": {
                layer: sum(c["layer"] == layer for c in failed) for layer in (*LAYERS, "slo")
            },
        },
        "checks": checks,
    }


def write(path: Path, summary: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=1))
