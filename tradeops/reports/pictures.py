"""The report's pictures, drawn from the verdict document alone (no store, no clock).

- per SLO: the error budget remaining over its window (`slo[].history`, evaluated from the
  store as of each point by tradeops.slo.series), lines at 50% and 0%, the as-of instant
  marked; and each alert pair's burn rates against its threshold;
- a strategy x check and an account x check grid, coloured by outcome;
- per account, NAV against its peak and the drawdown limit, today's loss against its
  limit, margin closeout against warning and critical (`checks[].figures`);
- per live run, heartbeat age against the staleness threshold (`checks[].figures`).

A picture whose figures are absent is left out, never drawn from guesses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from tradeops.reports import charts, palette

GRID_ROWS = 60  # subjects per grid: the ones with a failure first, the rest counted
RED, AMBER, GREEN = (palette.fill(c) for c in (palette.RED, palette.AMBER, palette.GREEN))


def pictures(doc: dict) -> str:
    """Every picture the document has figures for, in sections; "" when none."""
    sections = [
        ("Error budgets and burn rates", [_slo(s, doc) for s in doc.get("slo") or []]),
        ("Checks by strategy and by account", _grids(doc.get("checks") or [])),
        ("Accounts", _accounts(doc.get("checks") or [])),
        ("Live runs: heartbeat age", _heartbeats(doc.get("checks") or [])),
    ]
    parts = [
        f"<h3>{escape(title)}</h3><div class='charts'>{''.join(items)}</div>"
        for title, items in sections
        if any(items)
    ]
    return f"<div class='tradeops-pictures'>{''.join(parts)}</div>" if parts else ""


def _ms(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000
    except ValueError:
        return None


def _judged(slo: dict) -> bool:
    return slo.get("verdict") not in ("insufficient", "insufficient data", "error") and not (
        slo.get("errors")
    )


def _slo(slo: dict, doc: dict) -> str:
    name = str(slo.get("name", "?"))
    title = str(slo.get("title") or name)
    if not _judged(slo):
        why = "cannot be measured" if slo.get("errors") else "insufficient data"
        eligible = slo.get("eligible")
        text = f"{eligible} eligible events: " if isinstance(eligible, int) else ""
        return charts.note(
            f"slo-none:{name}", f"{title}: {why}", text + "no budget or burn figures to draw"
        )
    out = []
    history = [
        (at, h.get("remaining"))
        for h in slo.get("history") or []
        if (at := _ms(h.get("at"))) is not None
    ]
    as_of = _ms(doc.get("as_of")) or _ms(doc.get("now")) or doc.get("now_ms")  # schema 1
    remaining = slo.get("budget_remaining")
    days = slo.get("window_days")
    span = f" over {days:g} d" if isinstance(days, int | float) else ""
    if len(history) >= 2:
        low = min([-0.25, *(v for _, v in history if v is not None)])
        label = "as of" if doc.get("as_of") else "now"
        out.append(
            charts.line(
                f"slo-budget:{name}",
                f"{title}: error budget remaining{span}",
                history,
                y_range=(max(low, -1.0), 1.0),
                rules=[(0.5, "50%", AMBER), (0.0, "0%", RED)],
                mark=(as_of, label) if as_of is not None else None,
                x_labels=(_day(history[0][0]), _day(history[-1][0])),
                colour=_budget_colour(remaining),
            )
        )
    elif isinstance(remaining, int | float):  # no history: the budget now, on a scale
        when = "as of" if doc.get("as_of") else "now"
        out.append(
            charts.gauge(
                f"slo-budget:{name}",
                f"{title}: error budget remaining{span} {when}",
                max(remaining, -0.5),
                lo=-0.5,
                hi=1.0,
                marks=[(0.5, "50%", AMBER), (0.0, "0%", RED)],
                colour=_budget_colour(remaining),
                text=f"{remaining:.0%}",
            )
        )
    rows = []
    for burn in slo.get("burn") or []:
        threshold = float(burn.get("threshold") or 0)
        colour = RED if burn.get("firing") else GREEN
        for window, key in (("long", "long_rate"), ("short", "short_rate")):
            value = burn.get(key)
            text = "-" if value is None else f"{value:.3g} / {threshold:.3g}"
            rows.append((f"{burn.get('pair', '?')} {window}", value, threshold, colour, text))
    if rows:
        out.append(charts.bars(f"slo-burn:{name}", f"{title}: burn rate per alert window", rows))
    return "".join(out)


def _budget_colour(remaining: float | None) -> str:
    if remaining is None or remaining <= 0:
        return RED
    return AMBER if remaining <= 0.5 else GREEN


def _day(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%m-%d %H:%MZ")


def _cell(check: dict) -> tuple[str, str]:
    outcome = check.get("outcome")
    colour = palette.of_outcome(outcome, check.get("effective_severity"))
    tip = f"{outcome} {check.get('effective_severity') or ''}".strip()
    if check.get("summary") and outcome != "passed":
        tip += f": {check['summary']}"
    return palette.fill(colour), tip


def _grids(checks: list[dict]) -> list[str]:
    out = []
    for layer, noun in (("strategy", "strategy"), ("portfolio", "account")):
        mine = [c for c in checks if c.get("layer") == layer and c.get("subject")]
        if not mine:
            continue
        columns = list(dict.fromkeys(str(c["check"]) for c in mine))
        cells = {(str(c["subject"]), str(c["check"])): _cell(c) for c in mine}
        subjects = list(dict.fromkeys(str(c["subject"]) for c in mine))
        bad = {str(c["subject"]) for c in mine if c.get("outcome") != "passed"}
        ordered = sorted(subjects, key=lambda s: s not in bad)
        shown, rest = ordered[:GRID_ROWS], len(ordered) - GRID_ROWS
        note = f"and {rest} more {noun}(s), every check passed" if rest > 0 else ""
        out.append(
            charts.grid(f"grid:{layer}", f"{noun} x check", shown, columns, cells, note=note)
        )
    return out


def _figures(checks: list[dict], name: str) -> list[tuple[dict, dict]]:
    """The figures of the checks named so that were judged (a skipped check measured nothing)."""
    return [
        (c, c["figures"])
        for c in checks
        if c.get("check") == name and c.get("figures") and c.get("outcome") in _JUDGED
    ]


_JUDGED = ("passed", "failed", "waived")


def _accounts(checks: list[dict]) -> list[str]:
    out = []
    for check, f in _figures(checks, "drawdown"):
        nav, peak, limit = f.get("nav"), f.get("peak"), f.get("limit")
        if not all(isinstance(v, int | float) for v in (nav, peak, limit)) or not peak:
            continue
        floor = peak * (1 - limit)
        out.append(
            charts.gauge(
                f"nav:{check.get('subject')}",
                f"{check.get('subject')} NAV",
                nav,
                lo=peak * (1 - 2 * limit),
                hi=peak,
                marks=[
                    (floor, f"limit {floor:,.0f}", RED),
                    (peak, f"peak {peak:,.0f}", palette.fill(palette.GREY)),
                ],
                colour=RED if nav < floor else GREEN,
                text=f"{nav:,.2f}, {(peak - nav) / peak:.1%} below peak (limit {limit:.0%})",
            )
        )
    for check, f in _figures(checks, "daily_loss"):
        loss, limit = f.get("loss"), f.get("limit")
        if not all(isinstance(v, int | float) for v in (loss, limit)) or limit <= 0:
            continue
        out.append(
            charts.gauge(
                f"loss:{check.get('subject')}",
                f"{check.get('subject')} today's loss",
                max(loss, 0),
                lo=0,
                hi=2 * limit,
                marks=[(limit, f"limit {limit:.0%}", RED)],
                colour=RED if loss > limit else GREEN,
                text=f"{loss:.1%} (limit {limit:.0%})",
            )
        )
    for check, f in _figures(checks, "margin_closeout"):
        value, warn, crit = f.get("percent"), f.get("warning"), f.get("critical")
        if not all(isinstance(v, int | float) for v in (value, warn, crit)):
            continue
        colour = RED if value >= crit else AMBER if value >= warn else GREEN
        out.append(
            charts.gauge(
                f"margin:{check.get('subject')}",
                f"{check.get('subject')} margin closeout",
                value,
                lo=0,
                hi=max(1.0, value),
                marks=[(warn, f"warning {warn:g}", AMBER), (crit, f"critical {crit:g}", RED)],
                colour=colour,
                text=f"{value:.2f}",
            )
        )
    return out


def _heartbeats(checks: list[dict]) -> list[str]:
    rows = []
    for check, f in _figures(checks, "heartbeat_fresh"):
        age, threshold = f.get("age_s"), f.get("threshold_s")
        if not all(isinstance(v, int | float) for v in (age, threshold)) or threshold <= 0:
            continue
        label = f"{check.get('subject')} {f.get('run') or ''}".strip()
        colour = RED if age > threshold else GREEN
        rows.append((label, age, threshold, colour, f"{age:.0f} s / {threshold:.0f} s"))
    rows.sort(key=lambda r: -(r[1] / r[2]))
    if not rows:
        return []
    shown = rows[:GRID_ROWS]
    note = f"the {len(shown)} oldest of {len(rows)} live runs" if len(rows) > len(shown) else ""
    return [
        charts.bars("heartbeat", "heartbeat age against the staleness threshold", shown, note=note)
    ]
