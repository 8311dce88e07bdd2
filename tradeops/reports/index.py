"""reports/index.html: every kept run, newest first, and a per-check trend across runs.

Built from the chain (which runs exist) and the JSON summaries beside the reports (what
each check did). Plain HTML and inline CSS, no script: it opens from a file:// URL on an
auditor's laptop months later. Written atomically, under the chain's lock.
"""

from __future__ import annotations

import itertools
import json
import os
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

from tradeops.reports import chain

INDEX_NAME = "index.html"
TREND_RUNS = 30  # how many of the newest runs the trend shows
FLAPPING_FLIPS = 2  # pass<->fail changes within the trend window that make a check "flapping"
OUTCOME_COUNTS = ("passed", "failed", "error", "skipped")


@dataclass
class TrendRow:
    """One check across the trend window, oldest run first (None: not run that time)."""

    check: str
    cells: list[dict | None] = field(default_factory=list)

    @property
    def passes(self) -> int:
        """Runs in the window where the check passed."""
        return sum(1 for c in self.cells if c and c["outcome"] == "passed")

    @property
    def failures(self) -> int:
        """Runs in the window where the check failed or errored."""
        return sum(1 for c in self.cells if c and c["outcome"] in ("failed", "error"))

    @property
    def flips(self) -> int:
        """How often the check changed between passing and failing (skips do not count)."""
        judged = [
            c["outcome"] == "passed"
            for c in self.cells
            if c and c["outcome"] in ("passed", "failed", "error")
        ]
        return sum(1 for a, b in itertools.pairwise(judged) if a != b)

    @property
    def flapping(self) -> bool:
        """Flipped often enough to stand out."""
        return self.flips >= FLAPPING_FLIPS


def load_summary(root: Path, entry: dict) -> dict | None:
    """The run's JSON summary as recorded, or None if it is missing or unreadable."""
    for record in entry["files"]:
        if record["path"].endswith(".json"):
            try:
                data = json.loads((root / record["path"]).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            return data if isinstance(data, dict) else None
    return None


def check_name(check: dict) -> str:
    """`check[subject]`, the name a check has in the trend."""
    subject = check.get("subject")
    return f"{check.get('check')}[{subject}]" if subject else str(check.get("check"))


def trend(summaries: list[dict | None]) -> list[TrendRow]:
    """Per-check outcomes across the given runs (oldest first); flapping checks first."""
    rows: dict[str, TrendRow] = {}
    for column, summary in enumerate(summaries):
        for check in (summary or {}).get("checks", []):
            row = rows.setdefault(check_name(check), TrendRow(check_name(check)))
            row.cells += [None] * (column - len(row.cells))
            row.cells.append(check)
    for row in rows.values():
        row.cells += [None] * (len(summaries) - len(row.cells))
    return sorted(rows.values(), key=lambda r: (not r.flapping, -r.failures, r.check))


def write_index(root: Path, keep_days: int | None = None) -> Path:
    """Regenerate reports/index.html from the chain (call under `chain.locked(root)`)."""
    entries = chain.read_entries(root)
    runs = chain.live_runs(entries)
    recent = runs[-TREND_RUNS:]
    summaries = [load_summary(root, entry) for entry in recent]
    page = render(runs, recent, summaries, chain.head(entries), len(entries), keep_days)
    path = root / INDEX_NAME
    partial = root / f".{INDEX_NAME}.{os.getpid()}.partial"
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, path)  # readers see the old index or the new one, never half
    return path


def render(
    runs: list[dict],
    recent: list[dict],
    summaries: list[dict | None],
    head: str,
    entries: int,
    keep_days: int | None,
) -> str:
    """The whole index page."""
    kept = f", kept {keep_days} days" if keep_days is not None else ""
    parts = [
        _HEAD,
        "<h1>tradeops paper trail</h1>",
        f"<p class='meta'>{len(runs)} runs{kept}; chain of {entries} entries, head "
        f"<code>{escape(head[:16])}</code>. Check integrity with "
        "<code>python -m tradeops.reports verify</code>.</p>",
        _trend_table(recent, summaries),
        _runs_table(runs),
        "</body></html>\n",
    ]
    return "\n".join(parts)


def _report_link(entry: dict) -> str:
    html = next((f["path"] for f in entry["files"] if f["path"].endswith(".html")), None)
    return f"<a href='{escape(html)}'>report</a>" if html else "(no HTML)"


def _runs_table(runs: list[dict]) -> str:
    rows = []
    for entry in reversed(runs):
        run = entry["run"]
        counts = run.get("counts", {})
        verdict = run.get("verdict") or "?"
        severity = run.get("highest_severity") or ""
        cells = [
            f"<td class='col-time'>{escape(run.get('started', ''))}</td>",
            f"<td class='col-kind'>{escape(run.get('kind', ''))}</td>",
            f"<td class='col-verdict verdict-{escape(verdict)}'>{escape(verdict.upper())}</td>",
            f"<td class='col-severity sev-{escape(severity)}'>{escape(severity or '-')}</td>",
            *(f"<td class='col-{o}'>{int(counts.get(o, 0))}</td>" for o in OUTCOME_COUNTS),
            f"<td class='col-link'>{_report_link(entry)}</td>",
        ]
        rows.append(f"<tr class='run' data-run='{escape(run.get('id', ''))}'>{''.join(cells)}</tr>")
    header = "".join(
        f"<th>{h}</th>"
        for h in (
            "Time (UTC)",
            "Kind",
            "Verdict",
            "Highest severity",
            "Passed",
            "Failed",
            "Errors",
            "Skipped",
            "Report",
        )
    )
    body = "\n".join(rows) or "<tr><td colspan='9'>No runs yet.</td></tr>"
    return (
        f"<h2>Runs, newest first</h2>\n<table id='runs'><thead><tr>{header}</tr></thead>"
        f"\n<tbody>\n{body}\n</tbody></table>"
    )


def _trend_table(recent: list[dict], summaries: list[dict | None]) -> str:
    rows = trend(summaries)
    if not rows:
        return "<h2>Trend</h2><p>No check outcomes recorded yet.</p>"
    heads = "".join(
        f"<th class='run-col' title='{escape(e['run'].get('started', ''))} "
        f"{escape(e['run'].get('kind', ''))}'>{i + 1}</th>"
        for i, e in enumerate(recent)
    )
    body = []
    for row in rows:
        cells = "".join(_trend_cell(cell) for cell in row.cells)
        badge = " <span class='badge'>flapping</span>" if row.flapping else ""
        css = "check flapping" if row.flapping else "check"
        body.append(
            f"<tr class='{css}'><td class='col-check'>{escape(row.check)}{badge}</td>{cells}"
            f"<td>{row.passes}</td><td>{row.failures}</td><td>{row.flips}</td></tr>"
        )
    return (
        f"<h2>Trend: the last {len(recent)} runs, oldest to newest</h2>\n"
        "<p class='meta'>Each square is one run: green passed, red failed (with its severity), "
        "grey skipped, blank not run. A check that flips between passing and failing "
        f"{FLAPPING_FLIPS} or more times is flapping and listed first.</p>\n"
        f"<table id='trend'><thead><tr><th>Check</th>{heads}<th>Passes</th><th>Failures</th>"
        f"<th>Flips</th></tr></thead>\n<tbody>\n" + "\n".join(body) + "\n</tbody></table>"
    )


def _trend_cell(cell: dict | None) -> str:
    if cell is None:
        return "<td class='t t-none'></td>"
    outcome = cell.get("outcome", "")
    title = escape(cell.get("summary") or outcome)
    if outcome == "passed":
        return f"<td class='t t-pass' title='{title}'>&#10003;</td>"
    if outcome in ("failed", "error"):
        severity = escape(cell.get("effective_severity") or "!")
        return f"<td class='t t-fail' title='{title}'>{severity}</td>"
    return f"<td class='t t-skip' title='{title}'>&ndash;</td>"


_HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tradeops paper trail</title>
<style>
body { font-family: Helvetica, Arial, sans-serif; font-size: 14px; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f0f0f0; }
.meta { color: #555; }
.verdict-red { color: #fff; background: #c62828; font-weight: bold; }
.verdict-green { color: #fff; background: #2e7d32; font-weight: bold; }
.sev-P0 { background: #b71c1c; color: #fff; font-weight: bold; }
.sev-P1 { background: #e65100; color: #fff; font-weight: bold; }
.sev-P2 { background: #f9a825; }
.sev-P3 { background: #fff59d; }
td.t { width: 1.6em; text-align: center; padding: 2px; font-size: 12px; }
.t-pass { background: #c8e6c9; color: #1b5e20; }
.t-fail { background: #ef5350; color: #fff; font-weight: bold; }
.t-skip { background: #e0e0e0; color: #616161; }
tr.flapping td.col-check { background: #fff3e0; font-weight: bold; }
.badge { background: #e65100; color: #fff; border-radius: 3px; padding: 0 4px; font-size: 11px; }
</style></head><body>"""
