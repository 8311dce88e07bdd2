"""Small hand-written SVG charts: inline, self-contained, no script, no fonts to fetch.

Each function returns one `<svg class="tradeops-chart" data-chart=...>` element with a
`<title>` (what a screen reader and a tooltip say). Every text is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

FONT = 'font-family="Helvetica, Arial, sans-serif" font-size="11"'
INK, MUTED, GRID = "#222", "#666", "#ddd"


def _svg(chart: str, title: str, width: int, height: int, body: list[str]) -> str:
    return (
        f'<svg class="tradeops-chart" data-chart="{escape(chart)}" role="img" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" {FONT}><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _text(
    x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK, bold: bool = False
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{weight}>'
        f"{escape(text)}</text>"
    )


def line(
    chart: str,
    title: str,
    points: Sequence[tuple[float, float | None]],
    *,
    y_range: tuple[float, float],
    rules: Sequence[tuple[float, str, str]] = (),
    mark: tuple[float, str] | None = None,
    x_labels: tuple[str, str] = ("", ""),
    colour: str = "#1565c0",
    y_format: str = "{:.0%}",
    width: int = 420,
    height: int = 150,
) -> str:
    """A line over x (any unit) with horizontal rules (value, label, colour) and an
    optional vertical mark (x, label). Points with y None break the line."""
    left, right, top, bottom = 44, 10, 20, 22
    lo, hi = y_range
    xs = [x for x, _ in points] or [0.0, 1.0]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (width - left - right)

    def py(y: float) -> float:
        y = min(max(y, lo), hi)
        return top + (hi - y) / (hi - lo) * (height - top - bottom)

    body = [
        _text(left, 13, title, bold=True),
        f'<rect x="{left}" y="{top}" width="{width - left - right}" '
        f'height="{height - top - bottom}" fill="#fafafa" stroke="{GRID}"/>',
    ]
    for value, label, rule_colour in rules:
        y = py(value)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{rule_colour}" stroke-dasharray="4 3"/>'
        )
        body.append(_text(left - 4, y + 4, label, anchor="end", fill=rule_colour))
    body.append(_text(left - 4, top + 8, y_format.format(hi), anchor="end", fill=MUTED))
    body.append(_text(left - 4, height - bottom, y_format.format(lo), anchor="end", fill=MUTED))
    segments, current = [], []
    for x, y in points:
        if y is None:
            segments, current = [*segments, current] if current else segments, []
            continue
        current.append(f"{px(x):.1f},{py(y):.1f}")
    if current:
        segments.append(current)
    for segment in segments:
        body.append(
            f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{" ".join(segment)}"/>'
        )
        for point in segment[-1:]:
            cx, cy = point.split(",")
            body.append(f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"/>')
    if mark is not None:
        x = px(mark[0])
        body.append(
            f'<line class="as-of" x1="{x:.1f}" x2="{x:.1f}" y1="{top}" '
            f'y2="{height - bottom}" stroke="{INK}" stroke-width="1.5"/>'
        )
        body.append(_text(min(x, width - right - 2), top - 2, mark[1], anchor="end"))
    body.append(_text(left, height - 6, x_labels[0], fill=MUTED))
    body.append(_text(width - right, height - 6, x_labels[1], anchor="end", fill=MUTED))
    return _svg(chart, title, width, height, body)


def bars(
    chart: str,
    title: str,
    rows: Sequence[tuple[str, float | None, float, str, str]],
    *,
    width: int = 420,
    note: str = "",
) -> str:
    """Horizontal bars against a threshold each: (label, value, threshold, colour, text).

    The scale puts each row's threshold at the same place (60% of the bar), so rows with
    different thresholds read alike; a value past 1.6x its threshold is drawn clipped."""
    left, right, row_h, top = 110, 70, 18, 32
    span = width - left - right
    height = top + row_h * len(rows) + (16 if note else 6)
    body = [_text(4, 13, title, bold=True)]
    at = left + 0.6 * span
    for number, (label, value, threshold, colour, text) in enumerate(rows):
        y = top + number * row_h
        body.append(_text(left - 6, y + 12, label, anchor="end"))
        body.append(
            f'<rect x="{left}" y="{y + 2}" width="{span}" height="{row_h - 5}" fill="#f2f2f2"/>'
        )
        if value is not None and threshold > 0:
            share = min(value / threshold * 0.6, 1.0)
            body.append(
                f'<rect class="bar" x="{left}" y="{y + 2}" width="{share * span:.1f}" '
                f'height="{row_h - 5}" fill="{colour}"/>'
            )
        body.append(_text(width - right + 4, y + 12, text, fill=MUTED))
    body.append(
        f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{top - 2}" '
        f'y2="{top + row_h * len(rows)}" stroke="{INK}" stroke-dasharray="3 2"/>'
    )
    body.append(_text(at, top - 4, "threshold", anchor="middle", fill=MUTED))
    if note:
        body.append(_text(4, height - 4, note, fill=MUTED))
    return _svg(chart, title, width, height, body)


def gauge(
    chart: str,
    title: str,
    value: float,
    *,
    lo: float,
    hi: float,
    marks: Sequence[tuple[float, str, str]],
    colour: str,
    text: str,
    width: int = 420,
) -> str:
    """One value on a scale lo..hi with labelled marks (value, label, colour)."""
    left, right, height = 8, 8, 58
    span = width - left - right

    def px(v: float) -> float:
        return left + (min(max(v, lo), hi) - lo) / ((hi - lo) or 1) * span

    body = [
        _text(left, 13, f"{title}: {text}", bold=True),
        f'<rect x="{left}" y="22" width="{span}" height="14" fill="#f2f2f2"/>',
        f'<rect class="bar" x="{left}" y="22" width="{px(value) - left:.1f}" height="14" '
        f'fill="{colour}"/>',
    ]
    for v, label, mark_colour in marks:
        x = px(v)
        body.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="18" y2="40" stroke="{mark_colour}" '
            'stroke-width="2"/>'
        )
        anchor = "end" if x > width - 60 else "start" if x < 60 else "middle"
        body.append(_text(x, 52, label, anchor=anchor, fill=mark_colour))
    return _svg(chart, title, width, height, body)


def grid(
    chart: str,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    cells: dict[tuple[str, str], tuple[str, str]],
    *,
    note: str = "",
) -> str:
    """Rows x columns of squares; cells[(row, column)] = (fill, tooltip); missing: blank."""
    cell, left = 16, 10 + 7 * max((len(r) for r in rows), default=4)
    top = 24 + 5 * max((len(c) for c in columns), default=4)
    # Rotated labels lean right past the last column by about half their length.
    width = left + cell * len(columns) + 10 + 3 * max((len(c) for c in columns), default=0)
    height = top + cell * len(rows) + (18 if note else 6)
    body = [_text(4, 13, title, bold=True)]
    for j, column in enumerate(columns):
        x = left + j * cell + cell / 2 + 4
        body.append(
            f'<text x="{x:.1f}" y="{top - 4}" transform="rotate(-60 {x:.1f} {top - 4})" '
            f'fill="{INK}">{escape(column)}</text>'
        )
    for i, row in enumerate(rows):
        y = top + i * cell
        body.append(_text(left - 4, y + 12, row, anchor="end"))
        for j, column in enumerate(columns):
            found = cells.get((row, column))
            fill, tip = found if found else ("#fff", "not run")
            body.append(
                f'<rect class="cell" x="{left + j * cell}" y="{y}" width="{cell - 2}" '
                f'height="{cell - 2}" fill="{fill}" stroke="{GRID}">'
                f"<title>{escape(row)} / {escape(column)}: {escape(tip)}</title></rect>"
            )
    if note:
        body.append(_text(4, height - 4, note, fill=MUTED))
    return _svg(chart, title, max(width, 200), height, body)


def note(chart: str, title: str, text: str, *, width: int = 420) -> str:
    """A grey panel saying why there is nothing to draw (never an empty axis)."""
    body = [
        _text(4, 13, title, bold=True),
        f'<rect x="4" y="20" width="{width - 8}" height="28" fill="#e0e0e0"/>',
        _text(12, 38, text, fill=INK),
    ]
    return _svg(chart, title, width, 54, body)
