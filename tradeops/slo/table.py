"""The gate table: one row per SLO, as terminal text and as an HTML fragment.

Columns: SLI, objective, window, actual, eligible, bad, budget remaining, the burn rates
of each alert pair (long/short), verdict. Both renderings come from the same rows.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

from tradeops.slo.budget import (
    ALERT_RULES,
    ERROR,
    EXHAUSTED,
    INSUFFICIENT,
    OK,
    PAGE,
    TICKET,
    WARNING,
)
from tradeops.slo.result import SloResult, days, percent, rate

HEADERS = (
    "SLI",
    "objective",
    "window",
    "actual",
    "eligible",
    "bad",
    "budget left",
    *(f"burn {r.pair}" for r in ALERT_RULES),
    "verdict",
)
# Verdict -> (word shown, HTML colour)
_VERDICT_STYLE = {
    ERROR: ("ERROR", "#b00020"),
    INSUFFICIENT: ("insufficient data", "#7a5c00"),
    EXHAUSTED: ("FREEZE: budget exhausted", "#b00020"),
    PAGE: ("PAGE", "#b00020"),
    TICKET: ("TICKET", "#a05a00"),
    WARNING: ("WARN", "#a05a00"),
    OK: ("ok", "#1b6e20"),
}


def rows(results: Sequence[SloResult]) -> list[tuple[str, ...]]:
    """The table's cells, one tuple per SLO, as text."""
    return [_row(r) for r in results]


def _row(r: SloResult) -> tuple[str, ...]:
    b = r.budget
    # Too few events (or none measurable) to judge: a budget or burn rate computed from
    # them is noise ("budget left -99900%"), so only the counts are shown.
    judged = not r.errors and b.eligible > 0 and r.verdict != INSUFFICIENT
    burns = []
    for alert in r.alerts:
        mark = " !" if alert.firing else ""
        burns.append(f"{rate(alert.long_rate)}/{rate(alert.short_rate)}{mark}" if judged else "-")
    return (
        r.title,
        percent(r.config.objective),
        days(r.config.window_days),
        percent(b.actual) if judged else "-",
        str(b.eligible),
        str(b.bad),
        percent(b.remaining, 0) if judged else "-",
        *burns,
        verdict_text(r),
    )


def verdict_text(r: SloResult) -> str:
    """The verdict cell: "ok", "WARN 62% used", "PAGE 1h/5m", "insufficient data (3 < 20)"."""
    verdict = r.verdict
    word = _VERDICT_STYLE[verdict][0]
    b = r.budget
    if verdict == INSUFFICIENT:
        return f"{word} ({b.eligible} < {b.min_events})"
    if verdict == WARNING:
        return f"{word} {percent(b.consumed, 0)} used"
    if verdict in (PAGE, TICKET):
        return f"{word} {', '.join(a.pair for a in r.alerts if a.firing)}"
    if verdict == EXHAUSTED and r.firing_pairs:
        return f"{word}; {', '.join(r.firing_pairs)}"
    return word


def _as_of(results: Sequence[SloResult]) -> str:
    if not results:
        return ""
    moment = datetime.fromtimestamp(results[0].now_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def render_text(results: Sequence[SloResult], title: str = "SLOs") -> str:
    """The table for the terminal, with its title and as-of instant, and each SLO's notes."""
    cells = [HEADERS, *rows(results)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADERS))]
    numeric = {1, 3, 4, 5, 6}  # right-aligned columns

    def line(row: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()

    out = [f"{title} as of {_as_of(results)}" if results else f"{title}: none evaluated"]
    out.append(line(HEADERS))
    out.append("  ".join("-" * w for w in widths))
    out += [line(row) for row in cells[1:]]
    for r in results:
        out += [f"  {r.title}: {text}" for text in (*r.errors, *r.notes)]
    return "\n".join(out)


def render_html(results: Sequence[SloResult], title: str = "SLOs") -> str:
    """The same table as a self-contained HTML fragment (escaped; inline styles only)."""
    esc = html.escape
    # Dark text: pytest-html greys its body text, and these are the figures people read.
    cell = "padding:2px 8px;color:#222"
    head = "".join(f'<th style="text-align:left;{cell}">{esc(h)}</th>' for h in HEADERS)
    body = []
    for r, row in zip(results, rows(results), strict=True):
        colour = _VERDICT_STYLE[r.verdict][1]
        cells = "".join(f'<td style="{cell}">{esc(c)}</td>' for c in row[:-1])
        cells += f'<td style="padding:2px 8px;color:{colour};font-weight:bold">{esc(row[-1])}</td>'
        body.append(f'<tr data-slo="{esc(r.name)}" data-verdict="{esc(r.verdict)}">{cells}</tr>')
    notes = "".join(
        f"<li>{esc(r.title)}: {esc(text)}</li>" for r in results for text in (*r.errors, *r.notes)
    )
    caption = f"{title} as of {_as_of(results)}" if results else f"{title}: none evaluated"
    return (
        '<div class="tradeops-slo">'
        f"<h2>{esc(caption)}</h2>"
        f'<table style="border-collapse:collapse"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        + (f"<ul>{notes}</ul>" if notes else "")
        + "</div>"
    )
