"""Verdict documents (schema 2, docs: /work/team/VERDICT.md) as the outputs receive them.

Built by hand in the published shape so the outputs' tests do not depend on a live run;
each helper gives one kind of run, overridable key by key.
"""

from __future__ import annotations

import copy

FINISHED = "2026-12-01T22:30:00.610Z"
FINISHED_S = 1796164200.61  # FINISHED as Unix seconds


def check(
    name: str,
    outcome: str = "passed",
    severity: str = "P1",
    subject: str | None = None,
    layer: str = "strategy",
) -> dict:
    """One check item of the document."""
    return {
        "nodeid": f"checks/{layer}/test_{name}.py::test_{name}"
        + (f"[{subject}]" if subject else ""),
        "check": name,
        "subject": subject,
        "layer": layer,
        "severity": severity,
        "runbook": name.replace("_", "-"),
        "outcome": outcome,
        "effective_severity": severity,
        "summary": "" if outcome == "passed" else f"{name} {outcome}",
        "findings": [],
    }


def slo(
    name: str = "run_success",
    *,
    window_days: float = 30,
    objective: float = 0.995,
    remaining: float | None = 0.51,
    rates: dict[str, float | None] | None = None,
    verdict: str = "ok",
) -> dict:
    """One SLO entry; `rates` gives the burn rate of each alert window (5m ... 3d)."""
    rates = {"5m": 0.1, "30m": 0.2, "1h": 0.3, "6h": 0.4, "3d": 0.5, **(rates or {})}
    pairs = (("page", "1h", "5m", 14.4), ("page", "6h", "30m", 6.0), ("ticket", "3d", "6h", 1.0))
    return {
        "name": name,
        "title": name.replace("_", " "),
        "severity": "P2",
        "objective": objective,
        "window_days": window_days,
        "required": False,
        "eligible": 1234,
        "bad": 3,
        "min_events": 20,
        "actual": 0.9976 if remaining is not None else None,
        "budget_total": 6.17 if remaining is not None else None,
        "budget_consumed": None if remaining is None else 1 - remaining,
        "budget_remaining": remaining,
        "burn": [
            {
                "pair": f"{long}/{short}",
                "severity": sev,
                "threshold": factor,
                "long_rate": rates[long],
                "short_rate": rates[short],
                "firing": bool(
                    rates[long] and rates[short] and min(rates[long], rates[short]) > factor
                ),
            }
            for sev, long, short, factor in pairs
        ],
        "firing": [],
        "verdict": verdict,
        "problem": None,
        "errors": [],
        "notes": [],
    }


def document(
    verdict: str = "green",
    checks: list[dict] | None = None,
    *,
    kind: str = "preflight",
    highest: str | None = None,
    finished: str = FINISHED,
    **overrides: object,
) -> dict:
    """A whole verdict document; counts and failures follow from `checks`."""
    checks = (
        copy.deepcopy(checks)
        if checks is not None
        else [check(n, layer="platform") for n in ("a", "b", "c", "d", "e")]
    )
    failed = [c for c in checks if c["outcome"] in ("failed", "error")]
    outcomes = ("passed", "failed", "error", "skipped", "waived", "suite_error")
    doc = {
        "schema": 2,
        "platform": {"name": "http://127.0.0.1:8080", "scenario": "healthy", "manifest": None},
        "run": {
            "id": "3f9a1c2b",
            "kind": kind,
            "started": "2026-12-01T22:30:00.000Z",
            "finished": finished,
            "duration_s": 0.61,
            "report": None,
            "junit": None,
            "exit_status": 0,
        },
        "now": "2026-12-01T22:30:00Z",
        "as_of": None,
        "verdict": verdict,
        "headline": f"{verdict.upper()}: a headline",
        "highest_severity": highest,
        "exit_code": 0,
        "completeness": {
            "selected": len(checks),
            "items": len(checks),
            "judged": sum(c["outcome"] in ("passed", "failed", "error", "waived") for c in checks),
            "ran": len(checks),
            "narrowed_by": None,
            "stopped_early": None,
        },
        "counts": {
            "outcome": {o: sum(c["outcome"] == o for c in checks) for o in outcomes},
            "severity": {
                s: sum(c["effective_severity"] == s for c in failed)
                for s in ("P0", "P1", "P2", "P3")
            },
            "layer": {},
        },
        "checks": checks,
        "failures": [
            {
                "check": c["check"],
                "subject": c["subject"],
                "severity": c["effective_severity"],
                "outcome": c["outcome"],
            }
            for c in failed
        ],
        "platform_red_not_selected": [],
        "not_judged": [],
        "suite_errors": [],
        "collection_errors": [],
        "slo": [],
        "gate": None,
        "waivers": {"applied": [], "expired": [], "unused": []},
        "problems": [],
        "environment": {},
    }
    doc.update(overrides)
    return doc


def red(severity: str = "P1", verdict: str = "red", **overrides: object) -> dict:
    """A red run (or one that stopped early after): two `severity` checks failed, three passed."""
    checks = [
        check("heartbeat_fresh", "failed", severity, subject="s1"),
        check("heartbeat_fresh", "failed", severity, subject="s2"),
        *(check(n) for n in ("a", "b", "c")),
    ]
    return document(verdict, checks, highest=severity, **overrides)
