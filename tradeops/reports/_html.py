"""What the pytest-html report adds: severity and layer columns, what to do, the verdict.

Cells are built here and inserted by the plugin's hooks. The sortable columns follow
pytest-html's markup (`class="sortable" data-column-type="x"` on the header, `col-x` on
the cell, same index in both); their cells hold plain text so sorting compares "P0".
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from tradeops.checkmodel import LAYER_ORDER, CheckMeta
from tradeops.runbooks import runbook

SEVERITY_AT = 1  # right after Result: the first thing an operator reads
LAYER_AT = 2
HEADERS = {
    SEVERITY_AT: '<th class="sortable" data-column-type="severity">Severity</th>',
    LAYER_AT: '<th class="sortable" data-column-type="layer">Layer</th>',
}
WHAT_TO_DO = "<th>What to do</th>"  # appended last, not sortable

STYLE = """<style>
td.col-severity.sev-P0 { background: #b71c1c; color: #fff; font-weight: bold; }
td.col-severity.sev-P1 { background: #e65100; color: #fff; font-weight: bold; }
td.col-severity.sev-P2 { background: #f9a825; }
td.col-severity.sev-P3 { background: #fff59d; }
td.col-severity.sev-declared { color: #777; }
.tradeops-verdict { font-size: 18px; font-weight: bold; padding: 6px 10px; color: #fff; }
.tradeops-verdict.red { background: #c62828; }
.tradeops-verdict.green { background: #2e7d32; }
.tradeops-verdict.incomplete, .tradeops-verdict.not_checked { background: #616161; }
.tradeops table.facts td, .tradeops table.facts th { border: 1px solid #ccc; padding: 2px 6px; }
td.col-todo .finding { font-family: monospace; }
</style>"""


def insert_header(cells: list[str]) -> None:
    """Add the Severity and Layer headers and the "What to do" column."""
    for index, header in sorted(HEADERS.items()):
        cells.insert(index, header)
    cells.append(WHAT_TO_DO)


def insert_row(report, cells: list[str], rootdir: Path, report_dir: Path) -> None:
    """The same columns for one row; collection errors (no metadata) get empty cells."""
    meta = CheckMeta.from_report(report)
    outcome = meta.outcome if meta else ""
    severity, colour = "", "sev-none"
    if meta is not None:
        failed = meta.outcome in ("failed", "error") or getattr(report, "failed", False)
        severity = (meta.effective_severity if failed else None) or meta.severity or ""
        # Colour only what failed: a passed P0 check is not an alarm.
        colour = f"sev-{severity}" if failed else "sev-declared"
    layer = layer_label(meta.layer) if meta is not None else ""
    cells.insert(SEVERITY_AT, f'<td class="col-severity {colour}">{escape(severity)}</td>')
    cells.insert(LAYER_AT, f'<td class="col-layer">{escape(layer)}</td>')
    cells.append(
        f'<td class="col-todo">{what_to_do(meta, outcome, report, rootdir, report_dir)}</td>'
    )


def layer_label(layer: str | None) -> str:
    """ "1 platform" .. "4 slo": sorting the column keeps the bottom-up order."""
    return f"{LAYER_ORDER.index(layer) + 1} {layer}" if layer in LAYER_ORDER else ""


def what_to_do(
    meta: CheckMeta | None, outcome: str, report, rootdir: Path, report_dir: Path
) -> str:
    """A failure's finding, next step and runbook link; a skip's reason; else nothing."""
    if meta is None:
        return "collection error: see the log" if getattr(report, "failed", False) else ""
    if outcome == "skipped" or getattr(report, "skipped", False):
        reason = (meta.summary or _skip_reason(report)).removeprefix("Skipped: ")
        return f"not judged: {escape(reason)}"
    if outcome not in ("failed", "error") and not getattr(report, "failed", False):
        return ""
    parts = []
    if meta.summary:
        parts.append(f'<div class="finding">{escape(meta.summary)}</div>')
    book = runbook(meta.runbook) if meta.runbook else None
    if book is not None:
        parts.append(f"<div>next step: {escape(book.next_step)}</div>")
        href = escape(runbook_href(book.link, rootdir, report_dir))
        parts.append(f'<div>runbook: <a href="{href}">{escape(book.link)}</a></div>')
    return "".join(parts)


def runbook_href(link: str, rootdir: Path, report_dir: Path) -> str:
    """docs/runbooks.md#id as a link that works from the report's folder."""
    path, _, anchor = link.partition("#")
    target = os.path.relpath(rootdir / path, report_dir)
    return f"{Path(target).as_posix()}#{anchor}" if anchor else Path(target).as_posix()


def _skip_reason(report) -> str:
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return ""


def summary_block(data: dict, rootdir: Path, report_dir: Path) -> str:
    """The top of the report: verdict and highest severity, each failure with its next
    step, the checks not judged and why (the SLO table follows, from slo/conftest.py)."""
    verdict = data["verdict"]
    failed = data["failures"]
    headline = data["headline"]
    parts = [
        STYLE,
        '<div class="tradeops">',
        f'<p class="tradeops-verdict {escape(verdict)}">{escape(headline)}</p>',
    ]
    layers = ", ".join(f"{k}: {v}" for k, v in data["counts"]["layer"].items() if v)
    if layers:
        parts.append(f"<p>failures by layer: {escape(layers)}</p>")
    if failed:
        parts.append(
            "<h3>Failures, most severe first</h3>" + _failure_table(failed, rootdir, report_dir)
        )
    if data["collection_errors"]:
        items = "".join(
            f"<li>{escape(e['nodeid'])}: {escape(e['message'])}</li>"
            for e in data["collection_errors"]
        )
        parts.append(f"<h3>Not collected (the suite itself is broken)</h3><ul>{items}</ul>")
    if data["not_judged"]:
        items = "".join(
            f"<li><details><summary>{g['count']} check(s): {escape(g['cause'])}</summary>"
            f"{escape(', '.join(g['checks']))}</details></li>"
            for g in data["not_judged"]
        )
        parts.append(f"<h3>Not judged</h3><ul>{items}</ul>")
    run = data["run"]
    parts.append(
        f"<p>Run {escape(str(run['id']))} ({escape(run['kind'])}), started "
        f"{escape(run['started'])}. Beside this file: {escape(str(run['junit']))} (JUnit) "
        "and the JSON summary. Kept reports are verified with "
        "<code>python -m tradeops.reports verify</code>.</p></div>"
    )
    return "\n".join(parts)


def _failure_table(failed: list[dict], rootdir: Path, report_dir: Path) -> str:
    rows = []
    for f in failed:
        book = f["runbook"] or ""
        link = (
            f'<a href="{escape(runbook_href(book, rootdir, report_dir))}">{escape(book)}</a>'
            if book
            else ""
        )
        rows.append(
            f'<tr><td class="col-severity sev-{escape(f["severity"] or "")}">'
            f"{escape(f['severity'] or '?')}</td><td>{escape(f['layer'] or '')}</td>"
            f"<td>{escape(_name(f))}</td><td>{escape(f['message'])}</td>"
            f"<td>{escape(f['next_step'] or '')}</td><td>{link}</td></tr>"
        )
    return (
        '<table class="facts"><tr><th>Severity</th><th>Layer</th><th>Check</th>'
        "<th>Finding</th><th>Next step</th><th>Runbook</th></tr>" + "".join(rows) + "</table>"
    )


def _name(check: dict) -> str:
    return check["check"] + (f"[{check['subject']}]" if check.get("subject") else "")
