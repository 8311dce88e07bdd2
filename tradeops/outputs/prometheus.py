"""The Prometheus textfile: a run's verdict document as node_exporter textfile metrics.

node_exporter's textfile collector reads every `*.prom` file of one directory at each
scrape. A run writes `tradeops_<kind>.prom` there (`--ops-prometheus DIR`), so the
pre-flight, the SLO cron and the gate each keep their own file and never overwrite each
other; every series carries the run's `kind` label. The file is written atomically:
`prometheus_client.write_to_textfile` writes a temporary file beside it (not `*.prom`, so
never scraped half-written) and renames it over the old one.

What is exported, and why (docs/monitoring.md lists every series):
- the verdict as a state set (`tradeops_verdict{verdict}` 1 for the run's verdict, 0 for
  the others), the exit code, the run's end time and duration;
- `tradeops_last_complete_run_timestamp_seconds`: the end of the last run that judged
  everything it set out to judge (verdict green or red, no suite error, not narrowed by
  -k or node ids). An incomplete, not-checked or narrowed run keeps the previous value,
  read back from the existing file, so `time() - ...` grows while cron is stopped or
  broken: a silent suite is itself alertable;
- one `tradeops_check_failed` series per check item (1 failed or error, else 0), labelled
  check, subject, layer, severity (the effective one) and outcome;
- per SLO: objective, window, eligible and bad events, budget remaining and consumed
  (absent where there is too little data to judge), the burn rate of every alert window,
  each multiwindow rule's threshold and whether the suite judged it firing.

A run evaluated `--ops-as-of` a past instant writes nothing: the past is not the present.
prometheus_client is imported only when a textfile is written (~0.1-0.4 s of imports).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradeops.outputs._stamps import epoch

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

NAME = "prometheus"
OPTION = "ops_prometheus"  # --ops-prometheus DIR (or the manifest's [outputs] prometheus_dir)
PREFIX = "tradeops"
VERDICTS = ("green", "red", "incomplete", "not_checked")
LAST_COMPLETE = f"{PREFIX}_last_complete_run_timestamp_seconds"


def wanted(config: Any) -> bool:
    """Is a textfile directory configured for this run?"""
    return bool(config.getoption(OPTION, None))


def write(doc: dict, config: Any) -> list[Path]:
    """Write this run's textfile into the configured directory; [] for an as-of run."""
    if doc.get("as_of"):
        return []
    return [write_textfile(doc, textfile_path(Path(config.getoption(OPTION)), doc))]


def textfile_path(directory: Path, doc: dict) -> Path:
    """The run kind's own file in the collector directory: tradeops_slo.prom, ..."""
    kind = (doc.get("run") or {}).get("kind") or "full"
    return directory / f"{PREFIX}_{kind.replace('-', '_')}.prom"


def write_textfile(doc: dict, path: Path) -> Path:
    """Render `doc` to `path` atomically, carrying the last complete run's time forward."""
    from prometheus_client import write_to_textfile

    registry = registry_of(doc, previous_complete=last_complete(path))
    write_to_textfile(str(path), registry)
    return path


def is_complete(doc: dict) -> bool:
    """Did this run judge everything it set out to (the only runs that prove the suite works)?"""
    return (
        doc.get("verdict") in ("green", "red")
        and not doc.get("suite_errors")
        and not (doc.get("completeness") or {}).get("narrowed_by")
        and not (doc.get("completeness") or {}).get("stopped_early")
    )


def last_complete(path: Path) -> float | None:
    """The last complete run's time from an existing textfile, or None (absent, unreadable)."""
    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = path.read_text(encoding="utf-8")
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == LAST_COMPLETE:
                    return float(sample.value)
    except (OSError, ValueError, UnicodeDecodeError):
        # A missing or damaged file loses only the carried value; this run still writes.
        return None
    return None


def registry_of(doc: dict, previous_complete: float | None = None) -> CollectorRegistry:
    """Every series of the document in a fresh registry (pure: no clock, no files)."""
    from prometheus_client import CollectorRegistry, Gauge

    registry = CollectorRegistry()
    run = doc.get("run") or {}
    kind = run.get("kind") or "full"

    def gauge(name: str, doc_: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(f"{PREFIX}_{name}", doc_, ("kind", *labels), registry=registry)

    finished = epoch(run.get("finished")) or epoch(doc.get("now"))
    if finished is not None:
        gauge("run_timestamp_seconds", "End of the last run (Unix time).").labels(kind).set(
            finished
        )
    if run.get("duration_s") is not None:
        gauge("run_duration_seconds", "Wall time of the last run.").labels(kind).set(
            float(run["duration_s"])
        )
    complete = is_complete(doc)
    gauge("run_complete", "1 if the last run judged everything it set out to.").labels(kind).set(
        int(complete)
    )
    latest = finished if complete else None
    carried = max((t for t in (previous_complete, latest) if t is not None), default=None)
    if carried is not None:
        gauge(
            "last_complete_run_timestamp_seconds",
            "End of the last complete run (incomplete, not-checked, narrowed runs keep it).",
        ).labels(kind).set(carried)
    verdict = gauge("verdict", "The run's verdict: 1 for the current one.", ("verdict",))
    for state in VERDICTS:
        verdict.labels(kind, state).set(int(doc.get("verdict") == state))
    if doc.get("exit_code") is not None:
        gauge("exit_code", "The process exit code of the last run.").labels(kind).set(
            doc["exit_code"]
        )
    _checks(doc, kind, gauge)
    _slos(doc.get("slo") or [], kind, gauge)
    return registry


def _checks(doc: dict, kind: str, gauge) -> None:
    counts = doc.get("counts") or {}
    by_outcome = gauge("checks", "Check items of the last run by outcome.", ("outcome",))
    for outcome, n in (counts.get("outcome") or {}).items():
        by_outcome.labels(kind, outcome).set(n)
    failed = gauge("failed_checks", "Failed check items by effective severity.", ("severity",))
    for severity, n in (counts.get("severity") or {}).items():
        failed.labels(kind, severity).set(n)
    completeness = doc.get("completeness") or {}
    judged = gauge("checks_judged", "Check items that passed or failed.")
    judged.labels(kind).set(completeness.get("judged") or 0)
    if completeness.get("selected") is not None:
        selected = gauge("checks_selected", "Check items the run's kind selects.")
        selected.labels(kind).set(completeness["selected"])
    status = gauge(
        "check_failed",
        "1 if the check item failed or errored, else 0; outcome says exactly what happened.",
        ("check", "subject", "layer", "severity", "outcome"),
    )
    for check in doc.get("checks") or []:
        outcome = check.get("outcome") or ""
        status.labels(
            kind,
            check.get("check") or "",
            check.get("subject") or "",
            check.get("layer") or "",
            check.get("effective_severity") or check.get("severity") or "",
            outcome,
        ).set(int(outcome in ("failed", "error")))


def _slos(slos: list[dict], kind: str, gauge) -> None:
    if not slos:
        return
    objective = gauge("slo_objective_ratio", "The SLO's objective (good / eligible).", ("slo",))
    window = gauge("slo_window_seconds", "The SLO's window.", ("slo",))
    eligible = gauge("slo_eligible_events", "Eligible events in the SLO window.", ("slo",))
    bad = gauge("slo_bad_events", "Bad events in the SLO window.", ("slo",))
    remaining = gauge(
        "slo_budget_remaining_ratio",
        "Share of the error budget left (negative: overspent).",
        ("slo",),
    )
    consumed = gauge("slo_budget_consumed_ratio", "Share of the error budget used.", ("slo",))
    status = gauge(
        "slo_status", "The SLO's verdict: 1 for the current one.", ("slo", "severity", "verdict")
    )
    rate = gauge("slo_burn_rate", "Error budget burn rate over an alert window.", ("slo", "window"))
    threshold = gauge(
        "slo_burn_threshold",
        "A multiwindow rule's burn-rate threshold.",
        ("slo", "pair", "severity"),
    )
    firing = gauge(
        "slo_alert_firing", "1 if the suite judged the rule firing.", ("slo", "pair", "severity")
    )
    for slo in slos:
        name = slo["name"]
        objective.labels(kind, name).set(slo["objective"])
        window.labels(kind, name).set(slo["window_days"] * 86_400)
        eligible.labels(kind, name).set(slo.get("eligible") or 0)
        bad.labels(kind, name).set(slo.get("bad") or 0)
        # No budget figures where the suite claims none (insufficient data, unmeasurable).
        if slo.get("budget_remaining") is not None:
            remaining.labels(kind, name).set(slo["budget_remaining"])
        if slo.get("budget_consumed") is not None:
            consumed.labels(kind, name).set(slo["budget_consumed"])
        verdict = str(slo.get("verdict") or "error").replace(" ", "_")
        status.labels(kind, name, slo.get("severity") or "", verdict).set(1)
        for burn in slo.get("burn") or []:
            long, short = burn["pair"].split("/")
            for win, value in ((long, burn.get("long_rate")), (short, burn.get("short_rate"))):
                if value is not None:  # no events in a window: no rate, never a zero
                    rate.labels(kind, name, win).set(value)
            threshold.labels(kind, name, burn["pair"], burn["severity"]).set(burn["threshold"])
            firing.labels(kind, name, burn["pair"], burn["severity"]).set(int(bool(burn["firing"])))
