"""Verdict documents shaped as /work/team/VERDICT.md (schema 2), built without a run.

Four runs an operator meets: healthy, a P0 (control plane down: 25 checks not judged), a
P2-only run (the gate blocked by an exhausted budget) and one with insufficient data.
"""

from __future__ import annotations

import copy

NOW = "2026-12-01T22:30:00Z"
STRATEGIES = [f"s{n}" for n in range(1, 9)]
ACCOUNTS = ["101-001-1-001", "101-001-1-002"]
PLATFORM_CHECKS = ["control_plane_health", "broker_reachability", "wal_mode", "clock_skew"]
STRATEGY_CHECKS = ["heartbeat_fresh", "no_gaps", "positions_match_broker", "tracking_backtest"]
PORTFOLIO_CHECKS = ["drawdown", "daily_loss", "margin_closeout"]
DAY_MS = 86_400_000


def check(
    name: str,
    layer: str,
    subject: str | None = None,
    outcome: str = "passed",
    severity: str = "P1",
    summary: str = "",
    figures: dict | None = None,
) -> dict:
    node = f"checks/{layer}/test_{layer}.py::test_{name}" + (f"[{subject}]" if subject else "")
    out = {
        "nodeid": node,
        "check": name,
        "subject": subject,
        "layer": layer,
        "severity": severity,
        "runbook": name.replace("_", "-"),
        "outcome": outcome,
        "effective_severity": severity if outcome in ("failed", "error") else None,
        "summary": summary,
        "findings": [],
    }
    if figures:
        out["figures"] = figures
    return out


def _checks() -> list[dict]:
    out = [check(n, "platform", severity="P0") for n in PLATFORM_CHECKS]
    for s in STRATEGIES:
        for n in STRATEGY_CHECKS:
            figures = (
                {"run": f"r-{s}", "age_s": 12.0, "threshold_s": 90.0}
                if n == ("heartbeat_fresh")
                else None
            )
            out.append(check(n, "strategy", s, figures=figures))
    for a in ACCOUNTS:
        out.append(
            check(
                "drawdown",
                "portfolio",
                a,
                figures={"nav": 98_200.0, "peak": 100_000.0, "drawdown": 0.018, "limit": 0.05},
            )
        )
        out.append(
            check(
                "daily_loss",
                "portfolio",
                a,
                figures={"nav": 98_200.0, "day_start_nav": 98_900.0, "loss": 0.0071, "limit": 0.03},
            )
        )
        out.append(
            check(
                "margin_closeout",
                "portfolio",
                a,
                severity="P2",
                figures={"percent": 0.21, "warning": 0.5, "critical": 0.9},
            )
        )
    return out


def slo(
    name: str,
    eligible: int = 20_000,
    bad: int = 20,
    objective: float = 0.995,
    verdict: str = "ok",
    history: bool = True,
    firing: bool = False,
) -> dict:
    allowed = round(1 - objective, 12) * eligible
    consumed = bad / allowed if allowed else 0.0
    now_ms = 1_796_164_200_000
    points = (
        [
            {"at": _iso(now_ms - (23 - i) * 30 * DAY_MS // 23), "remaining": 1 - consumed * i / 23}
            for i in range(24)
        ]
        if history
        else []
    )
    rate = 20.0 if firing else 0.4
    return {
        "name": name,
        "title": name.replace("_", " "),
        "severity": "P2",
        "objective": objective,
        "window_days": 30,
        "eligible": eligible,
        "bad": bad,
        "actual": (eligible - bad) / eligible if eligible else None,
        "budget_total": allowed,
        "budget_consumed": consumed,
        "budget_remaining": 1 - consumed,
        "burn": [
            {
                "pair": "1h/5m",
                "long_rate": rate,
                "short_rate": rate,
                "threshold": 14.4,
                "severity": "page",
                "firing": firing,
            },
            {
                "pair": "6h/30m",
                "long_rate": rate / 2,
                "short_rate": rate / 2,
                "threshold": 6.0,
                "severity": "page",
                "firing": firing,
            },
            {
                "pair": "3d/6h",
                "long_rate": 0.3,
                "short_rate": 0.2,
                "threshold": 1.0,
                "severity": "ticket",
                "firing": False,
            },
        ],
        "firing": ["page 1h/5m"] if firing else [],
        "verdict": verdict,
        "required": False,
        "problem": None,
        "errors": [],
        "notes": [],
        "history": points,
    }


def _iso(ms: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def base(kind: str = "full") -> dict:
    checks = _checks()
    return {
        "schema": 2,
        "platform": {"name": "http://127.0.0.1:8080", "scenario": None, "manifest": None},
        "run": {
            "id": "3f9a1c2b",
            "kind": kind,
            "started": "2026-12-01T22:30:00.123Z",
            "finished": "2026-12-01T22:30:02.000Z",
            "duration_s": 1.88,
            "report": "full-20261201T223000Z-3f9a1c2b.html",
            "junit": None,
            "exit_status": 0,
        },
        "now": NOW,
        "as_of": None,
        "verdict": "green",
        "headline": "GREEN: every selected check passed",
        "highest_severity": None,
        "exit_code": 0,
        "completeness": {
            "selected": len(checks),
            "judged": len(checks),
            "ran": len(checks),
            "narrowed_by": None,
            "stopped_early": None,
        },
        "counts": {
            "outcome": {
                "passed": len(checks),
                "failed": 0,
                "error": 0,
                "skipped": 0,
                "waived": 0,
                "suite_error": 0,
            },
            "severity": {"P0": 0, "P1": 0, "P2": 0, "P3": 0},
            "layer": {"platform": 0, "strategy": 0, "portfolio": 0, "slo": 0},
        },
        "checks": checks,
        "failures": [],
        "platform_red_not_selected": [],
        "not_judged": [],
        "suite_errors": [],
        "collection_errors": [],
        "slo": [slo("run_success"), slo("heartbeat_delivery", bad=55, verdict="warning")],
        "gate": None,
        "waivers": {"applied": [], "expired": [], "unused": []},
        "problems": [],
        "environment": {"tradeops": "0.1.0"},
    }


RUNBOOKS = {"promote_gate": "slo-promote-gate", "control_plane_health": "control-plane-down"}


def _fail(doc: dict, name: str, subject: str | None, severity: str, message: str) -> None:
    for c in doc["checks"]:
        if c["check"] == name and c["subject"] == subject:
            c["runbook"] = RUNBOOKS.get(name, "broker-unreachable")
            c.update(outcome="failed", effective_severity=severity, summary=message)
            c["findings"] = [{"severity": severity, "message": message, "what": name}]
            doc["failures"].append(
                {
                    "check": name,
                    "subject": subject,
                    "nodeid": c["nodeid"],
                    "outcome": "failed",
                    "severity": severity,
                    "layer": c["layer"],
                    "message": message,
                    "runbook": f"docs/runbooks.md#{c['runbook']}",
                    "runbook_id": c["runbook"],
                    "next_step": "Check the control plane process, then repeat the probe.",
                    "findings": c["findings"],
                }
            )
            doc["counts"]["outcome"]["failed"] += 1
            doc["counts"]["outcome"]["passed"] -= 1
            doc["counts"]["severity"][severity] += 1
            doc["counts"]["layer"][c["layer"]] += 1


def healthy() -> dict:
    return base()


def p0() -> dict:
    """Control plane down: layer 1 red, every strategy and portfolio check not judged."""
    doc = base()
    _fail(
        doc,
        "control_plane_health",
        None,
        "P0",
        "control plane at http://127.0.0.1:8080 refused the connection",
    )
    _fail(doc, "broker_reachability", None, "P0", "GET /api/health: connection refused")
    skipped = [c for c in doc["checks"] if c["layer"] != "platform"]
    for c in skipped:
        c.update(outcome="skipped", summary="unreliable: platform layer red")
    doc["not_judged"] = [
        {
            "cause": "unreliable: platform layer red (control_plane_health)",
            "count": len(skipped),
            "checks": [f"{c['check']}[{c['subject']}]" for c in skipped],
        }
    ]
    doc["counts"]["outcome"].update(passed=2, skipped=len(skipped))
    doc["completeness"].update(judged=4, ran=4 + len(skipped))
    doc["slo"] = []
    doc.update(
        verdict="red",
        highest_severity="P0",
        exit_code=10,
        headline="RED: highest severity P0: 2 check(s) failed (P0: 2)",
    )
    return doc


def p2_only() -> dict:
    """The promote gate blocked by an exhausted budget: amber, not red."""
    doc = base("promote-gate")
    doc["slo"][0] = slo("run_success", bad=140, verdict="exhausted", firing=True)
    doc["checks"].append(check("promote_gate", "slo", severity="P2"))
    doc["completeness"].update(
        selected=len(doc["checks"]), judged=len(doc["checks"]), ran=len(doc["checks"])
    )
    _fail(
        doc,
        "promote_gate",
        None,
        "P2",
        "run success: error budget exhausted (freeze): 140 bad of 20000 eligible in 30 d",
    )
    doc["gate"] = {"open": False, "blocked_by": ["run success (budget exhausted: freeze)"]}
    doc.update(
        verdict="red",
        highest_severity="P2",
        exit_code=11,
        headline="RED: highest severity P2: 1 check(s) failed (P2: 1)",
    )
    return doc


def insufficient() -> dict:
    """A fresh platform: too few events to judge any SLO."""
    doc = base("slo")
    doc["slo"] = [
        slo("run_success", eligible=3, bad=3, verdict="insufficient", history=False),
        slo("promote_gate_latency", eligible=0, bad=0, verdict="insufficient", history=False),
    ]
    for s in doc["slo"]:
        s.update(
            actual=None,
            budget_consumed=None,
            budget_remaining=None,
            problem=f"{s['title']}: insufficient data",
        )
        for b in s["burn"]:
            b.update(long_rate=None, short_rate=None, firing=False)
    doc.update(headline="GREEN: every selected check passed (2 SLOs: insufficient data)")
    return doc


DOCS = {"healthy": healthy, "p0": p0, "p2": p2_only, "insufficient": insufficient}


def every() -> dict[str, dict]:
    """A fresh copy of each document, by name."""
    return {name: copy.deepcopy(make()) for name, make in DOCS.items()}
