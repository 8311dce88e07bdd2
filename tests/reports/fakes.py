"""Recorded runs without running pytest: real files in a real reports root, real chain."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tradeops.reports import chain, paths

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def summary(outcomes: dict[str, str], kind: str = "preflight") -> dict:
    """A JSON summary shaped like the plugin's: check name -> passed/failed/skipped."""
    checks = [
        {
            "check": name.split("[")[0],
            "subject": name.split("[")[1].rstrip("]") if "[" in name else None,
            "outcome": outcome,
            "effective_severity": "P1" if outcome == "failed" else None,
            "summary": "stale run" if outcome == "failed" else "",
        }
        for name, outcome in outcomes.items()
    ]
    failed = [c for c in checks if c["outcome"] == "failed"]
    counts = {o: sum(c["outcome"] == o for c in checks) for o in ("passed", "failed", "skipped")}
    return {
        "verdict": "red" if failed else "green",
        "highest_severity": "P1" if failed else None,
        "counts": {"outcome": {**counts, "error": 0}},
        "checks": checks,
        "run": {"kind": kind},
    }


PLATFORM = "http://127.0.0.1:8080"


def record_run(
    root: Path,
    started: datetime,
    outcomes: dict[str, str] | None = None,
    kind: str = "preflight",
    scenario: str | None = None,
) -> dict:
    """Write one run's three files the way the plugin names them, and chain them
    (`scenario`: a sandbox drill's, None for the real platform)."""
    run = paths.reserve(root, kind, started)
    data = summary(outcomes or {"wal_mode": "passed"}, kind)
    data["platform"] = {"name": PLATFORM, "scenario": scenario, "manifest": None}
    run.html.write_text(f"<html><body>{kind} report {run.run_id}</body></html>")
    run.json.write_text(json.dumps(data))
    run.xml.write_text(f"<testsuites><testsuite name='{run.run_id}'/></testsuites>")
    facts = {
        "id": run.run_id,
        "kind": kind,
        "started": chain.utc_text(started),
        "verdict": data["verdict"],
        "highest_severity": data["highest_severity"],
        "counts": data["counts"]["outcome"],
        "platform": {"name": PLATFORM, "scenario": scenario},
        "completeness": {"selected": len(data["checks"]), "judged": len(data["checks"])},
    }
    with chain.locked(root):
        return chain.append_run(root, [run.html, run.json, run.xml], facts, started)


def record_runs(root: Path, count: int, start: datetime = T0) -> list[dict]:
    """count runs an hour apart."""
    return [record_run(root, start + timedelta(hours=i)) for i in range(count)]


def files_of(entry: dict) -> list[str]:
    """The relative paths an add entry recorded."""
    return [f["path"] for f in entry["files"]]


def run_writers(script: str, root: Path, count: int) -> None:
    """`count` processes running `script` (argv: root, its number) at once, each exiting 0."""
    repo = Path(__file__).resolve().parents[2]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(root), str(n)], cwd=repo, stdin=subprocess.DEVNULL
        )
        for n in range(count)
    ]
    for writer in writers:
        assert writer.wait(timeout=60) == 0
