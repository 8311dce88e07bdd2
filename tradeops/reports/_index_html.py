"""The index's HTML: pure functions of the index state (see index.py), no I/O."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from html import escape

from tradeops.reports import palette

FLAPPING_FLIPS = 2  # pass<->fail changes within the trend window that make a check "flapping"
PAGES_LISTED = 10  # the newest pages linked from index.html; each page links its neighbours
SUBJECTS_SHOWN = 40  # per check group: subjects with a failure are listed, the rest counted
OUTCOME_COUNTS = ("passed", "failed", "error", "skipped")


@dataclass
class TrendRow:
    """One check across the trend window, oldest run first (None: not run that time)."""

    check: str
    cells: list[list | None] = field(default_factory=list)

    @property
    def passes(self) -> int:
        """Runs in the window where the check passed."""
        return sum(1 for c in self.cells if c and c[0] == "passed")

    @property
    def failures(self) -> int:
        """Runs in the window where the check failed or errored."""
        return sum(1 for c in self.cells if c and c[0] in ("failed", "error"))

    @property
    def flips(self) -> int:
        """How often the check changed between passing and failing (skips do not count)."""
        judged = [c[0] == "passed" for c in self.cells if c and c[0] in _JUDGED]
        return sum(1 for a, b in itertools.pairwise(judged) if a != b)

    @property
    def flapping(self) -> bool:
        """Flipped often enough to stand out."""
        return self.flips >= FLAPPING_FLIPS


_JUDGED = ("passed", "failed", "error")


def check_name(check: dict) -> str:
    """`check[subject]`, the name a check has in the trend."""
    subject = check.get("subject")
    return f"{check.get('check')}[{subject}]" if subject else str(check.get("check"))


def trend(columns: list[dict]) -> list[TrendRow]:
    """Per-check outcomes across the columns (oldest first); flapping checks first."""
    names = dict.fromkeys(name for column in columns for name in column["cells"])
    rows = [TrendRow(name, [c["cells"].get(name) for c in columns]) for name in names]
    return sorted(rows, key=lambda r: (not r.flapping, -r.failures, r.check))


def index_page(state: dict, keep_days: int | None, pages_dir: str) -> str:
    """The whole index.html."""
    kept = f", kept {keep_days} days" if keep_days is not None else ""
    runs = state["runs"]
    # The real platform's newest run leads; a sandbox drill is never "the latest verdict".
    real = [r for r in runs if not r.get("scenario")]
    latest = real[-1] if real else (runs[-1] if runs else None)
    parts = [
        _head("tradeops paper trail"),
        "<h1>tradeops paper trail</h1>",
        _latest(latest),
        f"<p class='meta'>{state['live']} kept runs{kept}; chain of {state['seq']} entries, "
        f"head <code>{escape(state['head'][:16])}</code>. Check integrity with "
        "<code>python -m tradeops.reports verify</code>.</p>",
        _trend_section(state["trend"]["real"], real=True),
    ]
    if state["trend"]["drill"]:
        parts.append(_trend_section(state["trend"]["drill"], real=False))
    parts.append(_runs_table(runs, f"Runs, newest first (the newest {len(runs)})", ""))
    pages = [*state["pages"]]
    if state["spill"]:
        s = state["spill"]
        pages.append(
            {
                "file": f"runs-{state['page_no']:06d}.html",
                "first": s[0]["started"],
                "last": s[-1]["started"],
                "count": len(s),
            }
        )
    if pages:
        shown = pages[-PAGES_LISTED:]
        items = "".join(
            f"<li><a href='{escape(pages_dir)}/{escape(p['file'])}'>{escape(p['first'])} to "
            f"{escape(p['last'])}</a> ({p['count']} runs)</li>"
            for p in reversed(shown)
        )
        more = len(pages) - len(shown)
        older = f" {more} older pages follow from the last one listed." if more else ""
        parts.append(
            f"<h2>Older runs</h2><ul id='pages'>{items}</ul><p class='meta'>Each page links "
            f"to the pages before and after it.{older} Runs past retention stay listed on "
            "older pages; their reports are gone (recorded in the chain).</p>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def runs_page(rows: list[dict], number: int, final: bool) -> str:
    """One page of older runs (links relative to reports/index/), with its neighbours."""
    title = f"tradeops paper trail: older runs, page {number}"
    nav = ["<a href='../index.html'>the index</a>"]
    if number > 1:
        nav.append(f"<a href='runs-{number - 1:06d}.html'>older runs</a>")
    if final:
        nav.append(f"<a href='runs-{number + 1:06d}.html'>newer runs</a>")
    return "\n".join(
        [
            _head(title),
            f"<h1>{escape(title)}</h1><p class='nav'>{' | '.join(nav)}</p>",
            _runs_table(rows, "Runs, newest first", "../"),
            "</body></html>\n",
        ]
    )


def _latest(row: dict | None) -> str:
    if row is None:
        return "<p class='banner c-grey'>No runs yet.</p>"
    colour = palette.of_verdict(row.get("verdict"), row.get("highest_severity"))
    word = (row.get("verdict") or "?").replace("_", " ").upper()
    top = row.get("highest_severity")
    where = row.get("platform") or "platform ?"
    drill = f" (sandbox: {row['scenario']})" if row.get("scenario") else ""
    what = "Latest sandbox drill" if row.get("scenario") else "Latest"
    return (
        f"<p class='banner {colour}' id='latest'>{what}: {escape(word)}"
        f"{' ' + escape(top) if top else ''}, {escape(row.get('kind', ''))} at "
        f"{escape(_time(row.get('started', '')))} on {escape(where)}{escape(drill)}</p>"
    )


def _time(text: str) -> str:
    """ "2026-12-01T22:30:00.123Z" -> "2026-12-01 22:30:00Z"."""
    return text[:19].replace("T", " ") + ("Z" if text else "")


def _completeness(row: dict) -> str:
    c = row.get("completeness")
    if not isinstance(c, dict) or "selected" not in c:
        return "?"
    return f"{c.get('judged', '?')}/{c['selected']}"


def _runs_table(rows: list[dict], title: str, prefix: str) -> str:
    body = []
    for row in reversed(rows):
        verdict = row.get("verdict") or "?"
        severity = row.get("highest_severity") or ""
        colour = palette.of_verdict(verdict, severity)
        counts = row.get("counts") or {}
        if row.get("pruned") or not row.get("html"):
            link = "(pruned)" if row.get("pruned") else "(no HTML)"
        else:
            link = f"<a href='{escape(prefix + row['html'])}'>report</a>"
        cells = [
            f"<td class='col-time'>{escape(_time(row.get('started', '')))}</td>",
            f"<td class='col-platform'>{escape(row.get('platform') or '')}</td>",
            f"<td class='col-kind'>{escape(row.get('kind', ''))}</td>",
            f"<td class='col-scenario'>{escape(row.get('scenario') or '')}</td>",
            f"<td class='col-verdict {colour}'>{escape(verdict.replace('_', ' ').upper())}</td>",
            f"<td class='col-severity'>{escape(severity or '-')}</td>",
            f"<td class='col-judged'>{escape(_completeness(row))}</td>",
            *(f"<td class='col-{o}'>{int(counts.get(o, 0) or 0)}</td>" for o in OUTCOME_COUNTS),
            f"<td class='col-link'>{link}</td>",
        ]
        body.append(f"<tr class='run' data-run='{escape(row.get('id', ''))}'>{''.join(cells)}</tr>")
    heads = (
        "Time (UTC)",
        "Platform",
        "Kind",
        "Scenario",
        "Verdict",
        "Highest severity",
        "Judged/selected",
        "Passed",
        "Failed",
        "Errors",
        "Skipped",
        "Report",
    )
    header = "".join(f"<th>{h}</th>" for h in heads)
    empty = f"<tr><td colspan='{len(heads)}'>No runs yet.</td></tr>"
    return (
        f"<h2>{escape(title)}</h2>\n<table id='runs'><thead><tr>{header}</tr></thead>"
        f"\n<tbody>\n{chr(10).join(body) or empty}\n</tbody></table>"
    )


def _trend_section(columns: list[dict], real: bool) -> str:
    heading = (
        f"Trend of the real platform: the last {len(columns)} runs, oldest to newest"
        if real
        else f"Sandbox drills: the last {len(columns)} (never counted as flapping)"
    )
    rows = trend(columns)
    if not rows:
        return f"<h2>{escape(heading)}</h2><p>No check outcomes recorded yet.</p>"
    heads = "".join(
        f"<th class='run-col' title='{escape(c['started'])} {escape(c['kind'])}'>"
        f"{escape(c['started'][5:10])}<br>{escape(c['started'][11:16])}</th>"
        for c in columns
    )
    groups: dict[str, list[TrendRow]] = {}
    for row in rows:
        groups.setdefault(row.check.split("[")[0], []).append(row)
    order = sorted(groups.items(), key=lambda kv: (-_flapping(kv[1], real), -_fails(kv[1]), kv[0]))
    body = [_group(name, members, len(columns), real) for name, members in order]
    legend = (
        "<p class='meta'>One column per run, headed by its UTC time. Each check is one row "
        "(its worst subject per run), with the subjects that failed listed under it. "
        "Green passed, red or amber failed (with its severity), grey skipped, violet "
        "waived, blank not run."
        + (
            f" A subject that flips between passing and failing {FLAPPING_FLIPS} or more "
            "times is flapping; those checks come first."
            if real
            else ""
        )
        + "</p>"
    )
    table_id = "trend" if real else "trend-drills"
    return (
        f"<h2>{escape(heading)}</h2>\n{legend}\n<table id='{table_id}'><thead><tr>"
        f"<th>Check</th>{heads}<th>Passes</th><th>Failures</th><th>Flapping</th></tr></thead>\n"
        + "\n".join(body)
        + "\n</table>"
    )


def _flapping(rows: list[TrendRow], real: bool) -> int:
    return sum(r.flapping for r in rows) if real else 0


def _fails(rows: list[TrendRow]) -> int:
    return sum(r.failures for r in rows)


_RANK = {"failed": 4, "error": 4, "waived": 2, "skipped": 1, "suite_error": 1, "passed": 0}


def _worst(cells: list[list | None]) -> list | None:
    present = [c for c in cells if c]
    if not present:
        return None
    return max(present, key=_weight)


def _weight(cell: list) -> tuple[int, int]:
    """Failures outrank everything else, and P0 outranks P3."""
    severity = (cell[1] if len(cell) > 1 else None) or "P9"
    level = int(severity[1:]) if severity[1:].isdigit() else 9
    return _RANK.get(cell[0], 1), -level


def _group(name: str, rows: list[TrendRow], width: int, real: bool) -> str:
    flapping = _flapping(rows, real)
    strip = "".join(_cell(_worst([r.cells[i] for r in rows])) for i in range(width))
    subjects = len(rows) if len(rows) > 1 or "[" in rows[0].check else 0
    label = escape(name) + (f" <span class='n'>({subjects} subjects)</span>" if subjects else "")
    badge = f" <span class='badge'>flapping: {flapping}</span>" if flapping else ""
    css = "group flapping" if flapping else "group"
    head = (
        f"<tbody class='{css}' data-check='{escape(name)}'><tr class='check'>"
        f"<td class='col-check'>{label}{badge}</td>{strip}"
        f"<td>{sum(r.passes for r in rows)}</td><td>{_fails(rows)}</td><td>{flapping}</td></tr>"
    )
    if not subjects:
        return head + "</tbody>"
    shown = [r for r in rows if r.failures or (real and r.flapping)][:SUBJECTS_SHOWN]
    lines = [
        f"<tr class='subject'><td class='col-check'>&nbsp;&nbsp;{escape(r.check)}"
        f"{' <span class=badge>flapping</span>' if real and r.flapping else ''}</td>"
        + "".join(_cell(c) for c in r.cells)
        + f"<td>{r.passes}</td><td>{r.failures}</td><td>{r.flips}</td></tr>"
        for r in shown
    ]
    rest = len(rows) - len(shown)
    if rest:
        lines.append(
            f"<tr class='subject rest'><td colspan='{width + 4}'>&nbsp;&nbsp;{rest} more "
            "subject(s) never failed in this window</td></tr>"
        )
    return head + "".join(lines) + "</tbody>"


def _cell(cell: list | None) -> str:
    if cell is None:
        return "<td class='t t-none'></td>"
    outcome, severity = cell[0], cell[1] if len(cell) > 1 else None
    colour = palette.of_outcome(outcome, severity)
    title = escape(cell[2] if len(cell) > 2 else outcome)
    text = {"passed": "&#10003;", "waived": "W"}.get(outcome, "&ndash;")
    if outcome in ("failed", "error"):
        text = escape(severity or "!")
    return f"<td class='t {colour}' title='{title}'>{text}</td>"


def _head(title: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>\n{_STYLE}\n{palette.css()}\n</style></head><body>"
    )


_STYLE = """body { font-family: Helvetica, Arial, sans-serif; font-size: 14px; margin: 1.5em;
  color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; }
th { background: #f0f0f0; }
th.run-col { font-size: 10px; font-weight: normal; padding: 2px; text-align: center; }
.meta { color: #555; }
.banner { font-size: 20px; font-weight: bold; padding: 8px 12px; }
td.t { width: 2.2em; text-align: center; padding: 2px; font-size: 11px; }
tr.check td.col-check { font-weight: bold; }
tr.subject td { font-size: 12px; }
tr.rest td { color: #666; }
tbody.flapping tr.check td.col-check { background: #fff3e0; }
.badge { background: #e65100; color: #fff; border-radius: 3px; padding: 0 4px; font-size: 11px; }
.n { color: #666; font-weight: normal; }"""
