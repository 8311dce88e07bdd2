"""The run's one verdict: every check's outcome turned into one document every output renders.

`build(facts)` is the only place a verdict is derived. The terminal, `--ops-json`, the kept
JSON, the chain entry, the HTML report, JUnit, the Prometheus textfile and the Nagios line
all render the dict it returns, so no two outputs can disagree. The document's shape is
published as `tradeops/outputs/verdict.schema.json`.

Verdicts, most telling first:
- incomplete: the run stopped early (-x, --maxfail, Ctrl-C), or the suite could not judge a
  check (a defect of the suite): fewer checks were judged than the run set out to judge;
- red: a check failed, or layer 1 is red even where this run did not select its check;
- not_checked: nothing was judged at all (a `-k` typo, every check skipped);
- green: something was judged and nothing failed; a narrowed run (-k, node ids) says how
  many of its kind's checks it judged.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tradeops.checkmodel import FAILED, LAYER_ORDER, OUTCOMES, layer_rank
from tradeops.findings import SEVERITIES, highest
from tradeops.runbooks import link as runbook_link
from tradeops.runbooks import runbook
from tradeops.waivers import Waiver
from tradeops.waivers import apply as apply_waivers

SCHEMA = 2

# Exit codes above pytest's own 0-5, so cron and alerting can tell what a run means.
EXIT_PAGE = 10  # a P0 or P1 check failed: page someone now
EXIT_TICKET = 11  # only P2/P3 checks failed: open a ticket
EXIT_INCOMPLETE = 12  # stopped early: checks that could page never ran; treat as a page
EXIT_NOT_CHECKED = 13  # nothing was judged: the platform was not checked
EXIT_SUITE_DEFECT = 1  # the suite could not judge a check (and nothing paged)

KIND_WORDS = {
    "preflight": "pre-flight items",
    "promote-gate": "gate checks",
    "slo": "SLO checks",
    "full": "checks",
}


@dataclass
class RunFacts:
    """What the plugin gathered about one run; plain data, no pytest objects."""

    checks: list[dict]  # CheckMeta dicts with their nodeid, one per check item
    items: int  # check items this run set out to run (after -m/-k/node-id selection)
    kind: str = "full"
    kind_selected: int | None = None  # checks the kind selects (None: narrowed by path)
    narrowed_by: list[str] = field(default_factory=list)
    stopped_by: str | None = None  # "-x", "--maxfail=2", "interrupted"
    collection_errors: list[dict] = field(default_factory=list)
    platform_red: list[dict] = field(default_factory=list)  # layer-1 red, with severity
    platform_layer: str | None = None  # "red", "green", None (not probed)
    slo: list[dict] = field(default_factory=list)
    gate: dict | None = None
    waivers: tuple[Waiver, ...] = ()  # the manifest's [[waivers]]
    today: date | None = None  # the UTC day waivers are judged on (default: the session's)
    platform: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)
    now_ms: int = 0
    as_of_ms: int | None = None
    problems: list[str] = field(default_factory=list)
    environment: dict = field(default_factory=dict)
    runbook_url: str | None = None  # [reports] runbook_url: a published copy of the runbooks


def build(facts: RunFacts) -> dict:
    """The verdict document of one run (see VERDICT in docs/architecture.md)."""
    checks = sorted((dict(c) for c in facts.checks), key=lambda c: layer_rank(c.get("layer")))
    today = facts.today or datetime.fromtimestamp(facts.now_ms / 1000, UTC).date()
    waived = apply_waivers(checks, facts.waivers, today)
    failed = [c for c in checks if c["outcome"] in FAILED]
    ran_names = {c["check"] for c in checks}
    observed = [p for p in facts.platform_red if p["check"] not in ran_names]
    suite_errors = [_suite_error(c) for c in checks if c["outcome"] == "suite_error"]
    suite_errors += [
        {"check": None, "nodeid": e["nodeid"], "message": f"collection error: {e['message']}"}
        for e in facts.collection_errors
    ]
    outcome_counts = Counter(c["outcome"] for c in checks)
    judged = sum(outcome_counts[o] for o in ("passed", "failed", "error", "waived"))
    completeness = {
        "selected": facts.kind_selected,
        "items": facts.items,
        "ran": len(checks),
        "judged": judged,
        "narrowed_by": ", ".join(facts.narrowed_by) or None,
        "stopped_early": facts.stopped_by if len(checks) < facts.items else None,
    }
    top = highest(c["effective_severity"] for c in [*failed, *observed])
    verdict, exit_code = _verdict(failed or observed, top, completeness, suite_errors)
    doc = {
        "schema": SCHEMA,
        "platform": facts.platform,
        "run": facts.run,
        "now": rfc3339(facts.now_ms),
        "as_of": rfc3339(facts.as_of_ms) if facts.as_of_ms is not None else None,
        "verdict": verdict,
        "headline": "",
        "highest_severity": top,
        "exit_code": exit_code,
        "platform_layer": facts.platform_layer,
        "completeness": completeness,
        "counts": {
            "outcome": {o: outcome_counts[o] for o in OUTCOMES},
            "severity": {s: sum(c["effective_severity"] == s for c in failed) for s in SEVERITIES},
            "layer": {layer: sum(c["layer"] == layer for c in failed) for layer in LAYER_ORDER},
        },
        "checks": checks,
        "failures": failures(checks, facts.runbook_url),
        "platform_red_not_selected": observed,
        "not_judged": not_judged(checks),
        "suite_errors": suite_errors,
        "collection_errors": facts.collection_errors,
        "slo": facts.slo,
        "gate": facts.gate,
        "waivers": waived,
        "problems": facts.problems,
        "environment": facts.environment,
    }
    doc["headline"] = headline(doc, facts.kind)
    return doc


def _verdict(red: list, top: str | None, completeness: dict, suite_errors: list) -> tuple[str, int]:
    if completeness["stopped_early"]:
        return "incomplete", EXIT_INCOMPLETE
    if red:
        if top in ("P0", "P1"):
            return "red", EXIT_PAGE
        # A suite defect hides a check that might have paged: it outranks a ticket.
        return "red", EXIT_SUITE_DEFECT if suite_errors else EXIT_TICKET
    if suite_errors:
        return "incomplete", EXIT_SUITE_DEFECT
    if completeness["judged"] == 0:
        return "not_checked", EXIT_NOT_CHECKED
    return "green", 0


def headline(doc: dict, kind: str) -> str:
    """The verdict in one line, as the terminal, the HTML banner and Nagios say it."""
    c = doc["completeness"]
    noun = KIND_WORDS.get(kind, "checks")
    of = f"{c['judged']} of {c['selected']} {noun}" if c["selected"] is not None else None
    of = of or f"{c['judged']} {noun}"
    scope = f"{of} judged" + (f" ({c['narrowed_by']})" if c["narrowed_by"] else "")
    verdict = doc["verdict"]
    if verdict == "incomplete":
        if c["stopped_early"]:
            seen = f"; highest severity seen {doc['highest_severity']}" * bool(
                doc["highest_severity"]
            )
            return (
                f"INCOMPLETE: {c['ran']} of {c['items']} checks ran, stopped early "
                f"({c['stopped_early']}){seen}"
            )
        return f"INCOMPLETE: {len(doc['suite_errors'])} check(s) the suite could not judge; {scope}"
    if verdict == "not_checked":
        return f"NOT CHECKED: {scope}"
    waived = len(doc["waivers"]["applied"])
    if verdict == "green":
        return f"GREEN: no check failed{f' ({waived} waived)' * bool(waived)}; {scope}"
    counted = [*doc["failures"], *doc["platform_red_not_selected"]]
    counts = Counter(c.get("severity") or c.get("effective_severity") for c in counted)
    detail = ", ".join(f"{s}: {counts[s]}" for s in SEVERITIES if counts[s])
    return (
        f"RED: highest severity {doc['highest_severity'] or 'P?'}: "
        f"{len(counted)} check(s) failed ({detail}){f', {waived} waived' * bool(waived)}; {scope}"
    )


def failures(checks: list[dict], runbook_url: str | None = None) -> list[dict]:
    """Each failed or errored check, most severe first, with what to do about it."""
    out = []
    for check in checks:
        if check["outcome"] not in FAILED:
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
                "runbook": runbook_link(book.id, runbook_url) if book else check.get("runbook"),
                "runbook_id": check.get("runbook"),
                "next_step": book.next_step if book else None,
                "findings": check.get("findings", []),
            }
        )
    return sorted(out, key=lambda f: f["severity"] or "P9")


def not_judged(checks: list[dict]) -> list[dict]:
    """Skipped checks grouped by cause, largest group first, each with its count."""
    causes: dict[str, list[str]] = {}
    for c in checks:
        if c["outcome"] == "skipped":
            reason = (c.get("summary") or "skipped").removeprefix("Skipped: ")
            name = c["check"] + (f"[{c['subject']}]" if c.get("subject") else "")
            causes.setdefault(reason, []).append(name)
    return [
        {"cause": cause, "count": len(names), "checks": names}
        for cause, names in sorted(causes.items(), key=lambda kv: -len(kv[1]))
    ]


def _suite_error(check: dict) -> dict:
    return {"check": check["check"], "nodeid": check.get("nodeid"), "message": check["summary"]}


def chain_run(doc: dict) -> dict:
    """The few facts the chain entry keeps about a run (the index lists runs from them)."""
    return {
        "id": doc["run"].get("id"),
        "kind": doc["run"].get("kind"),
        "started": doc["run"].get("started"),
        "verdict": doc["verdict"],
        "headline": doc["headline"],
        "highest_severity": doc["highest_severity"],
        "counts": dict(doc["counts"]["outcome"]),
        "completeness": {k: doc["completeness"][k] for k in ("selected", "judged", "items")},
        "platform": doc["platform"],
        "waived": [w["check"] for w in doc["waivers"]["applied"]],
    }


def rfc3339(ms: int) -> str:
    """An epoch-ms instant as RFC 3339 UTC: 2026-12-01T22:30:00.123Z."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    spec = "seconds" if ms % 1000 == 0 else "milliseconds"
    return moment.isoformat(timespec=spec).replace("+00:00", "Z")
