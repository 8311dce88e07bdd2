"""The draft as Markdown: facts with their sources, and prompts (in italics) for a person."""

from __future__ import annotations

from tradeops.postmortem._entries import DETECTED, RECOVERED, SIGNAL, Entry
from tradeops.postmortem.draft import MAX_TIMELINE, Draft, _pct, duration, utc

_LABEL = {SIGNAL: "signal", DETECTED: "detected", RECOVERED: "recovered"}


def _fact(entry: Entry | None, missing: str) -> str:
    if entry is None:
        return missing
    return f"{utc(entry.ts_ms)}: {entry.text} ({entry.source})"


def _summary(d: Draft) -> list[str]:
    start, detected, clear = d.start, d.detection, d.all_clear
    lines = ["## Summary", "", "*What happened, in one paragraph an operator would write: ...*", ""]
    if start is None:
        lines += ["No fault signal in the store or the kept runs in this window.", ""]
    lines += [
        f"- **Start (first signal):** {_fact(start, 'none found')}",
        f"- **Detection:** {_fact(detected, 'nothing detected it')}",
    ]
    if clear is not None:
        lines.append(f"- **All-clear:** {_fact(clear, '')}")
    elif start is not None:
        still = ", ".join(f"{what} {key}" for what, key in d.still_open) or "no recovery recorded"
        lines.append(f"- **All-clear:** not reached by {utc(d.until_ms)} (still open: {still})")
    if start is not None and detected is not None:
        lines.append(f"- **Time to detect:** {duration(detected.ts_ms - start.ts_ms)}")
    if start is not None and clear is not None:
        lines.append(f"- **Time to resolve:** {duration(clear.ts_ms - start.ts_ms)}")
    radius = d.blast_radius()
    lines.append("- **Blast radius:** " + "; ".join(
        f"{len(v)} {k}" + (f" ({', '.join(v[:12])}{', ...' if len(v) > 12 else ''})" if v else "")
        for k, v in radius.items()
    ))  # fmt: skip
    lines += [
        "- **Severity:** *the highest severity seen, and whether capital was at risk: ...*",
        "",
    ]
    lines += [
        "Error budget burned in the window (bad events in the window against the SLO's whole "
        "budget in the SLO window ending at the window's end):",
        "",
        "| SLO | objective | bad in window | budget (bad allowed) | burned in window "
        "| left at end |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for b in d.burns:
        if b.problem:
            lines.append(f"| {b.title} | {b.objective:.3%} | not measured: {b.problem} | | | |")
            continue
        allowed = "n/a" if b.allowed is None else f"{b.allowed:.1f}"
        lines.append(
            f"| {b.title} | {b.objective:.3%} | {b.bad} | {allowed} | {_pct(b.burned)} | "
            f"{_pct(b.remaining)} |"
        )
    return [*lines, ""]


def _timeline(d: Draft) -> list[str]:
    lines = ["## Timeline (UTC)", "", "Minute by minute, first signal to all-clear; each line "
             "names its source (an event's seq in the store, or a kept report).", "",
             "| time | what | source |", "| --- | --- | --- |"]  # fmt: skip
    marks: dict[int, str] = {}
    for entry, name in (
        (d.start, "first signal"),
        (d.detection, "detection"),
        (d.all_clear, "all-clear"),
    ):
        if entry is not None:
            marks[id(entry)] = f"{marks[id(entry)]}, {name}" if id(entry) in marks else name
    previous = None
    shown = d.entries[:MAX_TIMELINE]
    for entry in shown:
        minute = entry.ts_ms // 60_000
        if previous is not None and minute - previous > 1:
            lines.append(f"| | *{minute - previous - 1} min without a signal* | |")
        previous = minute
        tag = marks.get(id(entry)) or _LABEL.get(entry.kind, "note")
        time = utc(entry.ts_ms)[11:19]
        lines.append(f"| {time} | **{tag}**: {entry.text} | {entry.source} |")
    if not shown:
        lines.append(f"| | nothing in {utc(d.since_ms)} to {utc(d.until_ms)} | |")
    if len(d.entries) > MAX_TIMELINE:
        lines.append(f"| | *{len(d.entries) - MAX_TIMELINE} more lines left out: draft a "
                     "shorter window* | |")  # fmt: skip
    return [*lines, "", "*Add what people did and when (pages, restarts, decisions): ...*", ""]


_PROMPTS = """## Root cause

*One sentence: the cause you can change, not the symptom. Ask "why?" until the answer is a
decision, a change or a missing safeguard: ...*

## What worked

*What detected it, and how fast (the detection line above is the first that did). Which
runbook steps worked as written, which were wrong or missing: ...*

### What went wrong

*Where time was lost between the first signal and the detection, or the detection and the
all-clear: ...*

### Where we got lucky

*What could have made this worse and did not: the market was closed, the strategy was
flat, someone happened to be watching, a second fault did not come at the same time: ...*

## Action items

Every item has an owner and a ticket; prefer items that prevent over items that mitigate.

| action | kind (prevent / mitigate / detect) | owner | ticket |
| --- | --- | --- | --- |
| *...* | | | |
"""


def markdown(d: Draft) -> str:
    head = [
        f"# Post-mortem draft: {utc(d.since_ms)} to {utc(d.until_ms)}",
        "",
        f"Drafted by `python -m tradeops postmortem` from the event store `{d.store_path}` "
        f"(read-only) and the kept runs in `{d.reports_root}`. Prefilled lines are facts with "
        "their source; lines in *italics* are for a person to write.",
        "",
    ]
    lines = head + _summary(d) + _timeline(d) + [_PROMPTS]
    return "\n".join(lines)
