"""What a finished run knows, gathered on the controller for the one verdict.

`RunCollector` (registered by the plugin on the controller) records every check's outcome
as the reports arrive, workers' included; `facts_of` adds what the session knows (the
platform, the layer-1 probe, how the run was selected and whether it stopped early, the
SLO results and the gate) and hands `tradeops.verdict.build` plain data.
"""

from __future__ import annotations

import json
import time

import pytest

from tradeops import figures
from tradeops._session import SESSION, narrowing_paths, run_kind
from tradeops.checkmodel import GATE_PROPERTY, SLO_HISTORY_PROPERTY, SLO_PROPERTY, CheckMeta
from tradeops.verdict import RunFacts, rfc3339

# Set by the paper trail when it reserves this run's files: id, kind, report, junit.
RUN_INFO = pytest.StashKey[dict]()
ENVIRONMENT = pytest.StashKey[dict]()  # the paper trail's vetted environment
STARTED_MS = pytest.StashKey[int]()
RUN = pytest.StashKey["RunCollector"]()  # on the controller of an operational run
DOC = pytest.StashKey[dict]()  # the run's verdict document, once built
KIND_SELECTED = "tradeops_kind_selected"  # a worker's count, sent in its workeroutput


class RunCollector:
    """The controller's record of the run: every check's outcome, SLO results, errors."""

    def __init__(self) -> None:
        self.checks: dict[str, dict] = {}
        self.slo_results: dict[str, dict] = {}
        self.slo_history: dict[str, list[dict]] = {}
        self.gate_ran = False
        self.collection_errors: list[dict] = []
        self.kind_selected: int | None = None
        self.items = 0

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        meta = CheckMeta.from_report(report)
        if meta is not None:
            entry = {"nodeid": report.nodeid, **meta.__dict__}
            # A failure at any phase outranks the passed teardown of the same item.
            known = self.checks.get(report.nodeid)
            if known is None or known["outcome"] in ("passed", "skipped"):
                self.checks[report.nodeid] = entry
        properties = getattr(report, "user_properties", ())
        # The numbers a check judged (for the report's pictures) are complete by teardown.
        found = figures.read(properties) if report.when == "teardown" else {}
        if found and report.nodeid in self.checks:
            self.checks[report.nodeid]["figures"] = found
        for key, value in properties:
            if key == SLO_PROPERTY:
                raw = json.loads(value) if isinstance(value, str) else dict(value)
                self.slo_results[raw["name"]] = raw
            elif key == SLO_HISTORY_PROPERTY:
                self.slo_history.update(json.loads(value))
            elif key == GATE_PROPERTY:
                self.gate_ran = True

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            text = str(getattr(report, "longrepr", "") or "").strip().splitlines()
            self.collection_errors.append(
                {"nodeid": report.nodeid, "message": text[-1] if text else "error"}
            )


def facts_of(config: pytest.Config, session: pytest.Session, run) -> RunFacts:
    """The run's facts: the collector's outcomes plus the session's context."""
    ops = config.stash[SESSION]
    kind = run_kind(config)
    started = config.stash.get(STARTED_MS, ops.now_ms)
    finished = int(time.time() * 1000)
    info = {
        "id": None,
        "kind": kind,
        "report": None,
        "junit": None,
        **config.stash.get(RUN_INFO, {}),
        "started": rfc3339(started),
        "finished": rfc3339(finished),
        "duration_s": round((finished - started) / 1000, 3),
        "exit_status": None,
    }
    results = slo_results(run)
    return RunFacts(
        checks=list(run.checks.values()),
        items=run.items,
        kind=kind,
        kind_selected=run.kind_selected,
        narrowed_by=_narrowed_by(config),
        stopped_by=_stopped_by(config, session, run),
        collection_errors=list(run.collection_errors),
        platform_red=_platform_red(ops),
        platform_layer=None if ops.verdict is None else ("red" if ops.verdict.red else "green"),
        slo=[
            {**result.figures(), "history": run.slo_history.get(result.name, [])}
            for result in results
        ],
        gate=_gate(ops, results) if run.gate_ran else None,
        waivers=ops.manifest.waivers if ops.manifest is not None else (),
        runbook_url=ops.manifest.reports.runbook_url if ops.manifest is not None else None,
        retried=list(ops.verdict.retried) if ops.verdict is not None else [],
        platform=ops.platform,
        run=info,
        now_ms=ops.now_ms,
        as_of_ms=ops.as_of_ms,
        problems=list(ops.problems),
        environment=config.stash.get(ENVIRONMENT, {}),
    )


def slo_table(run) -> str:
    """The SLO table as terminal text, from the same results the document holds."""
    results = slo_results(run)
    if not results:
        return ""
    from tradeops.slo import table

    return table.render_text(results)


def _narrowed_by(config: pytest.Config) -> list[str]:
    out = []
    if config.option.keyword:
        out.append(f"-k {config.option.keyword}")
    paths = narrowing_paths(config)
    if paths:
        out.append(f"narrowed to {', '.join(paths)}")
    if getattr(config.option, "deselect", None):
        out.append(f"--deselect {', '.join(config.option.deselect)}")
    if getattr(config.option, "lf", False) or getattr(config.option, "failedfirst", False):
        out.append("--lf")
    return out


def _stopped_by(config: pytest.Config, session: pytest.Session, run) -> str | None:
    """Why a run may have stopped before its last check (the verdict asks only when it did).

    `-x` under xdist ends as an interruption: the option is the cause worth naming.
    """
    if run.collection_errors:
        return "collection errors"
    maxfail = config.option.maxfail
    if maxfail:
        return "-x" if maxfail == 1 else f"--maxfail={maxfail}"
    if session.exitstatus == pytest.ExitCode.INTERRUPTED or session.shouldstop:
        return "interrupted"
    return None


def _platform_red(ops) -> list[dict]:
    """Every layer-1 check the probe found red, whether or not this run selected it."""
    if ops.verdict is None:
        return []
    return [
        {
            "check": check,
            "effective_severity": ops.verdict.severity(check),
            "summary": str(ops.verdict.of(check)[0]),
        }
        for check in ops.verdict.red_checks
    ]


def slo_results(run) -> list:
    if not run.slo_results:  # a run without SLOs (pre-flight) never loads their modules
        return []
    from tradeops.slo.result import SloResult

    out = []
    for raw in run.slo_results.values():
        try:
            out.append(SloResult.from_json(raw))
        except (KeyError, TypeError, ValueError):
            continue  # a malformed record is the suite's bug; its check reports it
    return out


def _gate(ops, results: list) -> dict:
    from tradeops.slo.evaluate import gate

    blocks = ops.manifest.gate.insufficient_data_blocks if ops.manifest else False
    decision = gate(results, blocks)
    line = (
        "PROMOTE GATE OPEN: no budget exhausted, no page-level burn"
        if decision.passed
        else f"PROMOTE GATE CLOSED: {'; '.join(decision.blocked_by)}"
    )
    return {"open": decision.passed, "blocked_by": list(decision.blocked_by), "line": line}
