"""What the pytest-html report adds: the verdict first, pictures, severity columns.

`summary_block(doc, ...)` is the top of the report, a pure function of the verdict
document (docs/VERDICT shape, schema 2): the verdict banner, the completeness line, the
failures (severity, check, subject, finding, next step, runbook with its steps), what
was not judged (one line per cause, expandable), then the pictures (tradeops.reports.
pictures). A small inline script moves it under the title and folds pytest-html's
environment table to the bottom, so at 1400x900 the first screen is the verdict.

The row cells are built here too and inserted by the plugin's hooks. The sortable
columns follow pytest-html's markup (`class="sortable" data-column-type="x"` on the
header, `col-x` on the cell, same index in both); their cells hold plain text.
"""

from __future__ import annotations

import os
from html import escape
from pathlib import Path

from tradeops import runbooks
from tradeops.checkmodel import LAYER_ORDER, CheckMeta
from tradeops.reports import palette
from tradeops.reports.pictures import pictures
from tradeops.runbooks import runbook

SEVERITY_AT = 1  # right after Result: the first thing an operator reads
LAYER_AT = 2
HEADERS = {
    SEVERITY_AT: '<th class="sortable" data-column-type="severity">Severity</th>',
    LAYER_AT: '<th class="sortable" data-column-type="layer">Layer</th>',
}
WHAT_TO_DO = "<th>What to do</th>"  # appended last, not sortable

STYLE = """<style>
td.col-severity.sev-P0, td.col-severity.sev-P1 { background: #c62828; color: #fff;
  font-weight: bold; }
td.col-severity.sev-P2, td.col-severity.sev-P3 { background: #f9a825; color: #222;
  font-weight: bold; }
td.col-severity.sev-declared { color: #777; }
td.col-todo .finding { font-family: monospace; }
#tradeops-top { color: #222; font-size: 14px; margin: 0 0 18px 0; }
#tradeops-top .banner { font-size: 22px; font-weight: bold; padding: 10px 14px; margin: 0; }
#tradeops-top .sub { margin: 4px 0 8px 0; color: #444; }
#tradeops-top .completeness { font-size: 15px; margin: 6px 0 10px 0; }
#tradeops-top .completeness.partial { background: #e0e0e0; padding: 4px 8px; }
#tradeops-top table.facts { border-collapse: collapse; width: 100%; margin-bottom: 10px; }
#tradeops-top table.facts td, #tradeops-top table.facts th { border: 1px solid #ccc;
  padding: 3px 6px; text-align: left; vertical-align: top; color: #222; }
#tradeops-top table.facts th { background: #f0f0f0; }
#tradeops-top table.facts td.sev { font-weight: bold; text-align: center; width: 3em; }
#tradeops-top details.steps ol { margin: 4px 0; padding-left: 20px; }
#tradeops-top details summary { cursor: pointer; }
#tradeops-top .not-judged { background: #eeeeee; padding: 2px 8px; margin: 2px 0; }
#tradeops-top .waived { border-left: 6px solid #6a1b9a; padding: 2px 8px; }
#tradeops-top .charts { display: flex; flex-wrap: wrap; gap: 12px; }
#tradeops-top h3 { margin: 12px 0 4px 0; font-size: 15px; }
#tradeops-top a { color: #0d47a1; }
.summary__data { flex: 1 1 auto; }
"""


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
    """docs/runbooks.md#id as a link that works from the report's folder; a URL as is."""
    if "://" in link:
        return link
    path, _, anchor = link.partition("#")
    target = os.path.relpath(rootdir / path, report_dir)
    return f"{Path(target).as_posix()}#{anchor}" if anchor else Path(target).as_posix()


def _skip_reason(report) -> str:
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return ""


# Runs as the page loads: the verdict under the title, the environment folded at the end
# (pytest-html's own header click still unfolds it). Inline: the file stays self-contained.
SCRIPT = """<script>
document.addEventListener('DOMContentLoaded', function () {
  var top = document.getElementById('tradeops-top');
  var title = document.getElementById('title');
  if (top && title) { title.after(top); }
  var head = document.getElementById('environment-header');
  var env = document.getElementById('environment');
  var foot = document.querySelector('footer');
  if (head && env && foot) {
    foot.before(head); foot.before(env);
    env.classList.add('hidden'); head.classList.add('collapsed');
  }
});
</script>"""


def summary_block(doc: dict, rootdir: Path, report_dir: Path) -> str:
    """The top of the report from the verdict document (a dict shaped as VERDICT.md)."""
    colour = palette.of_verdict(doc.get("verdict"), doc.get("highest_severity"))
    parts = [
        STYLE + palette.css() + "</style>",
        SCRIPT,
        '<div id="tradeops-top" class="tradeops">',
        f'<p class="banner {colour}" id="verdict" data-verdict="{escape(str(doc.get("verdict")))}"'
        f">{escape(doc.get('headline') or _headline(doc))}</p>",
        _sub(doc),
        _completeness(doc.get("completeness") or {}),
    ]
    failures = doc.get("failures") or []
    if failures:
        parts.append(_failures(failures, rootdir, report_dir))
    parts += _lists(doc)
    parts.append(pictures(doc))
    parts.append("</div>")
    return "\n".join(parts)


def _headline(doc: dict) -> str:
    """A schema-1 summary's headline (schema 2 carries its own)."""
    if doc.get("verdict") == "green":
        return "GREEN: no check failed"
    counts = ", ".join(
        f"{s}: {n}" for s, n in ((doc.get("counts") or {}).get("severity") or {}).items() if n
    )
    failed = len(doc.get("failures") or [])
    top = doc.get("highest_severity") or "P?"
    return f"RED: highest severity {top}: {failed} check(s) failed" + (
        f" ({counts})" if counts else ""
    )


def _sub(doc: dict) -> str:
    run, platform = doc.get("run") or {}, doc.get("platform") or {}
    where = platform.get("name") or "?"
    if platform.get("scenario"):
        where += f" (sandbox scenario {platform['scenario']})"
    when = f"as of {doc['as_of']}" if doc.get("as_of") else f"at {doc.get('now', '?')}"
    return (
        f'<p class="sub">{escape(str(run.get("kind", "?")))} run {escape(str(run.get("id")))} '
        f"on {escape(where)} {escape(when)}; exit code {escape(str(doc.get('exit_code')))}. "
        "Beside this file: the JSON verdict and JUnit XML.</p>"
    )


def _completeness(c: dict) -> str:
    if "selected" not in c:
        return ""  # a schema-1 summary has no completeness counts
    selected, judged, ran = c.get("selected"), c.get("judged"), c.get("ran")
    text = f"Completeness: {judged} of {selected} selected checks judged ({ran} ran)"
    if c.get("narrowed_by"):
        text += f"; narrowed by {c['narrowed_by']}"
    if c.get("stopped_early"):
        text += f"; stopped early: {c['stopped_early']}"
    partial = judged != selected or c.get("narrowed_by") or c.get("stopped_early")
    return f'<p class="completeness{" partial" if partial else ""}" id="completeness">' + (
        f"{escape(text)}</p>"
    )


def _failures(failures: list[dict], rootdir: Path, report_dir: Path) -> str:
    rows = []
    for f in failures:
        severity = f.get("severity") or "?"
        colour = palette.of_severity(severity)
        finding = escape(f.get("message") or "")
        more = f.get("findings") or []
        if len(more) > 1:
            items = "".join(f"<li>{escape(x.get('message', ''))}</li>" for x in more)
            finding += f"<details><summary>{len(more)} findings</summary><ul>{items}</ul></details>"
        rows.append(
            f'<tr class="failure"><td class="sev {colour}">{escape(severity)}</td>'
            f"<td>{escape(str(f.get('check', '')))}</td><td>{escape(str(f.get('subject') or ''))}"
            f"</td><td>{finding}</td><td>{escape(f.get('next_step') or '')}</td>"
            f"<td>{_runbook(f, rootdir, report_dir)}</td></tr>"
        )
    return (
        '<table class="facts" id="failures"><thead><tr><th>Severity</th><th>Check</th>'
        "<th>Subject</th><th>Finding</th><th>Next step</th><th>Runbook</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _runbook(failure: dict, rootdir: Path, report_dir: Path) -> str:
    link = failure.get("runbook") or ""
    if not link:
        return ""
    out = f'<a href="{escape(runbook_href(link, rootdir, report_dir))}">{escape(link)}</a>'
    book = runbook(failure.get("runbook_id") or link.partition("#")[2])
    if book is None:
        return out
    try:
        # The runbook's steps travel inside the report: a copied report is self-contained.
        fragment = runbooks.html_fragment(book.id)
    except (KeyError, ValueError):  # the runbook cannot be rendered: the link stands
        return out
    return out + f'<details class="steps"><summary>steps</summary>{fragment}</details>'


def _lists(doc: dict) -> list[str]:
    out = []
    for key, title in (
        ("suite_errors", "The suite could not judge (a defect of the suite)"),
        ("collection_errors", "Not collected (the suite itself is broken)"),
    ):
        if doc.get(key):
            items = "".join(
                f"<li>{escape(str(e.get('check') or e.get('nodeid')))}: "
                f"{escape(e.get('message', ''))}</li>"
                for e in doc[key]
            )
            out.append(f"<h3>{title}</h3><ul>{items}</ul>")
    if doc.get("platform_red_not_selected"):
        items = "".join(
            f"<li>{escape(p.get('check', ''))} ({escape(p.get('effective_severity') or '')}): "
            f"{escape(p.get('summary') or '')}</li>"
            for p in doc["platform_red_not_selected"]
        )
        out.append(f"<h3>Platform layer red in checks not selected</h3><ul>{items}</ul>")
    causes = _causes(doc.get("not_judged") or [])
    if causes:
        lines = "".join(
            f'<details class="not-judged"><summary>{escape(c.get("cause", "?"))}: '
            f"<b>{int(c.get('count', len(c.get('checks') or [])))}</b></summary><ul>"
            + "".join(f"<li>{escape(str(x))}</li>" for x in c.get("checks") or [])
            + "</ul></details>"
            for c in causes
        )
        out.append(f'<h3>Not judged</h3><div id="not-judged">{lines}</div>')
    waivers = (doc.get("waivers") or {}).get("applied") or []
    if waivers:
        items = "".join(f"<li>{escape(_waiver(w))}</li>" for w in waivers)
        out.append(f'<h3>Waived</h3><ul class="waived">{items}</ul>')
    gate = doc.get("gate")
    if isinstance(gate, dict):
        state = (
            "open" if gate.get("open") else "BLOCKED by " + "; ".join(gate.get("blocked_by") or [])
        )
        out.append(f"<p><b>Promote gate:</b> {escape(state)}</p>")
    if doc.get("problems"):
        items = "".join(f"<li>{escape(str(p))}</li>" for p in doc["problems"])
        out.append(f"<h3>The suite's own warnings</h3><ul>{items}</ul>")
    return out


def _causes(entries: list[dict]) -> list[dict]:
    """Schema 2's one entry per cause; a schema-1 list (one per check) grouped so."""
    if all("cause" in e for e in entries):
        return entries
    grouped: dict[str, list[str]] = {}
    for e in entries:
        name = str(e.get("check")) + (f"[{e['subject']}]" if e.get("subject") else "")
        grouped.setdefault(str(e.get("reason") or "?"), []).append(name)
    return [{"cause": k, "count": len(v), "checks": v} for k, v in grouped.items()]


def _waiver(w) -> str:
    if isinstance(w, dict):
        return ", ".join(f"{k}: {v}" for k, v in w.items())
    return str(w)
