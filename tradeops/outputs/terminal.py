"""The terminal: a failure's text severity-first, and the verdict block as the last word.

The verdict block renders the run's verdict document: the headline, each failure with its
next step and runbook, what was not judged (one line per cause), the suite's own
defects and warnings, the SLO table and gate, and where the paper trail went.
"""

from __future__ import annotations

from tradeops.checkmodel import CheckMeta
from tradeops.findings import Finding
from tradeops.runbooks import runbook

NAME = "terminal"
_COLOUR = {"green": "green", "red": "red", "incomplete": "yellow", "not_checked": "yellow"}


def render_failure(meta: CheckMeta, severity: str | None, findings: list[Finding]) -> str:
    """The failure text: severity and check first, then each finding, then the next step."""
    count = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
    lines = [f"{severity} {meta.name} FAILED: {count}"]
    for f in findings:
        mark = f" ({f.severity})" if f.severity and f.severity != severity else ""
        lines.append(f"  - {f}{mark}")
    lines += next_step_lines(meta.runbook)
    return "\n".join(lines)


def render_suite_error(meta: CheckMeta, error: str) -> str:
    """An unexpected exception in a check: the suite's defect, not the platform's."""
    return (
        f"SUITE DEFECT {meta.name}: the suite could not judge {meta.check}: {error}\n"
        "  this is a bug in tradeops, not a platform fault: report it to the suite's owners"
    )


def next_step_lines(runbook_id: str | None) -> list[str]:
    book = runbook(runbook_id) if runbook_id else None
    if book is None:
        return []
    return [f"  next step: {book.next_step}", f"  runbook: {book.link}"]


def write(doc: dict, tr, slo_table: str = "", trail: list[str] | None = None) -> None:
    """The verdict block, written after everything else pytest prints in its summary."""
    if slo_table:
        tr.write_sep("=", "tradeops SLOs", bold=True)
        for line in slo_table.splitlines():
            tr.write_line(line)
        gate = doc.get("gate")
        if gate is not None:
            tr.write_line(gate["line"], red=not gate["open"], bold=True)
    tr.write_sep("=", "tradeops verdict", bold=True)
    platform = doc.get("platform") or {}
    if platform.get("scenario"):
        tr.write_line(f"platform: sandbox scenario {platform['scenario']!r}")
    elif platform.get("manifest"):
        tr.write_line(f"platform: {platform.get('name')} ({platform['manifest']})")
    tr.write_line(
        f"session clock: {doc['now']}" + (f", SLOs as of {doc['as_of']}" * bool(doc["as_of"]))
    )
    for line in trail or []:
        tr.write_line(line)
    for failure in doc["failures"]:
        subject = f"[{failure['subject']}]" if failure["subject"] else ""
        tr.write_line(
            f"{failure['severity']} {failure['check']}{subject}: {failure['message']}", red=True
        )
        for line in next_step_lines(failure["runbook_id"]):
            tr.write_line(f"  {line.strip()}")
    for check in doc["platform_red_not_selected"]:
        tr.write_line(
            f"{check['effective_severity']} {check['check']} (layer 1, not selected in this "
            f"run): {check['summary']}",
            red=True,
        )
        tr.write_line("  next step: run `pytest -m platform` for the findings and runbook")
    for error in doc["suite_errors"]:
        tr.write_line(f"SUITE DEFECT: {error['message']} ({error['nodeid']})", red=True)
    for group in doc["not_judged"]:
        tr.write_line(f"not judged: {group['count']} check(s): {group['cause']}", yellow=True)
    waivers = doc.get("waivers") or {}
    for waiver in waivers.get("applied", []):
        tr.write_line(
            f"WAIVED {waiver['check']}: {waiver['reason']} "
            f"({waiver['owner']}, until {waiver['expires']})",
            purple=True,
        )
    for waiver in waivers.get("expired", []):
        tr.write_line(
            f"waiver EXPIRED for {waiver['check']} on {waiver['expires']}: failing again", red=True
        )
    for waiver in waivers.get("unused", []):
        tr.write_line(f"waiver unused: {waiver['pattern']} matched no failing check", yellow=True)
    for problem in doc["problems"]:
        tr.write_line(f"warning: {problem}", yellow=True)
    colour = _COLOUR.get(doc["verdict"], "red")
    tr.write_line(doc["headline"], **{colour: True, "bold": True})
