"""One set of colours for every visual output: what a colour means never differs.

P0/P1 red, P2/P3 amber, green, grey for NOT CHECKED / INCOMPLETE (and skipped), violet
for WAIVED. A class name per meaning; the CSS below gives each its colour.
"""

from __future__ import annotations

RED, AMBER, GREEN, GREY, WAIVED = "c-red", "c-amber", "c-green", "c-grey", "c-waived"
COLOURS = {
    RED: ("#c62828", "#fff"),
    AMBER: ("#f9a825", "#222"),
    GREEN: ("#2e7d32", "#fff"),
    GREY: ("#9e9e9e", "#fff"),
    WAIVED: ("#6a1b9a", "#fff"),
}
PALE = {RED: "#ffcdd2", AMBER: "#fff3c4", GREEN: "#c8e6c9", GREY: "#e0e0e0", WAIVED: "#e1bee7"}


def of_severity(severity: str | None) -> str:
    """P0/P1 red, P2/P3 amber; anything else (an unknown level) red: never a quiet colour."""
    return AMBER if severity in ("P2", "P3") else RED


def of_verdict(verdict: str | None, highest_severity: str | None) -> str:
    """The banner's colour: red or amber by the highest severity, green, or grey."""
    if verdict == "green":
        return GREEN
    if verdict in ("incomplete", "not_checked") or verdict is None:
        return GREY
    return of_severity(highest_severity)


def of_outcome(outcome: str | None, severity: str | None = None) -> str:
    """A check's cell: passed green, failed/error by severity, waived violet, else grey."""
    if outcome == "passed":
        return GREEN
    if outcome in ("failed", "error"):
        return of_severity(severity)
    if outcome == "waived":
        return WAIVED
    return GREY


def fill(colour: str, pale: bool = False) -> str:
    """The colour's fill, for SVG (classes do not reach inside every viewer's SVG)."""
    return PALE[colour] if pale else COLOURS[colour][0]


def css() -> str:
    """`.c-red { background; color }` for each colour, and `.pale` variants."""
    rules = [f".{c} {{ background: {bg}; color: {fg}; }}" for c, (bg, fg) in COLOURS.items()]
    rules += [f".pale.{c} {{ background: {bg}; color: #222; }}" for c, bg in PALE.items()]
    return "\n".join(rules)
