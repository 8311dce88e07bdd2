"""Assemble a post-mortem draft: the facts of a window, prefilled, and prompts for a person.

`build` reads the event store (read-only), the suite's kept runs and the SLOs (with the
slo package's own evaluate/budget code); `markdown` writes the five sections of the
operations model: Summary, Timeline, Root cause, What worked (and where we got lucky),
Action items.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tradeops._record import frozen_record
from tradeops.config import Manifest
from tradeops.connectors.event_store import EventStore
from tradeops.postmortem._entries import DETECTED, RECOVERED, SIGNAL, Entry
from tradeops.postmortem._runs import run_entries
from tradeops.postmortem._store import store_entries
from tradeops.slo.budget import DAY_MS
from tradeops.slo.evaluate import evaluate
from tradeops.slo.history import ProbeHistory

MAX_TIMELINE = 400  # lines; a longer window's timeline says how many it left out


@frozen_record
class Burn:
    """One SLO's error budget burned inside the window."""

    name: str
    title: str
    objective: float
    bad: int | None  # bad events in the window
    allowed: float | None  # bad events the SLO window (ending at the window's end) allows
    remaining: float | None  # share of the budget left at the window's end
    problem: str | None = None  # why it could not be measured here

    @property
    def burned(self) -> float | None:
        if self.bad is None or not self.allowed:
            return None
        return self.bad / self.allowed


@dataclass
class Draft:
    since_ms: int
    until_ms: int
    store_path: str
    reports_root: Path
    entries: list[Entry]
    burns: list[Burn] = field(default_factory=list)
    failing_subjects: set[tuple[str, str]] = field(default_factory=set)

    def first(self, *kinds: str) -> Entry | None:
        return next((e for e in self.entries if e.kind in kinds), None)

    @property
    def start(self) -> Entry | None:
        """The first signal: the earliest sign of a fault, detected or not."""
        return self.first(SIGNAL, DETECTED)

    @property
    def detection(self) -> Entry | None:
        return self.first(DETECTED)

    @property
    def still_open(self) -> list[tuple[str, str]]:
        """The faults opened in the window and not over by its end, in order of opening."""
        open_now: dict[tuple[str, str], None] = {}
        for e in self.entries:
            if e.opens:
                open_now[e.opens] = None
            if e.closes:
                open_now.pop(e.closes, None)
        return list(open_now)

    @property
    def all_clear(self) -> Entry | None:
        """The recovery that closed the last open fault; None while any is open at the end."""
        if self.start is None or self.still_open:
            return None
        recoveries = [
            e for e in self.entries if e.kind == RECOVERED and e.ts_ms >= self.start.ts_ms
        ]
        return recoveries[-1] if recoveries else None

    def blast_radius(self) -> dict[str, list[str]]:
        faults = [e for e in self.entries if e.kind in (SIGNAL, DETECTED)]
        radius = {
            "strategies": {e.strategy for e in faults},
            "accounts": {e.account for e in faults},
            "instruments": {e.instrument for e in faults},
            "runs": {e.run for e in faults},
        }
        radius["strategies"] |= {s for layer, s in self.failing_subjects if layer == "strategy"}
        radius["accounts"] |= {s for layer, s in self.failing_subjects if layer == "portfolio"}
        return {k: sorted(v - {None}) for k, v in radius.items()}  # type: ignore[operator]


def _burns(
    manifest: Manifest, store: EventStore, history: ProbeHistory | None, since: int, until: int
) -> list[Burn]:
    """Each SLO's bad events inside [since, until) against its whole budget at `until`."""
    span = (until - since) / DAY_MS
    inside_manifest = dataclasses.replace(
        manifest, slo={n: dataclasses.replace(c, window_days=span) for n, c in manifest.slo.items()}
    )
    inside = evaluate(inside_manifest, until, store=store, history=history, fills=None)
    whole = evaluate(manifest, until, store=store, history=history, fills=None)
    burns = []
    for part, full in zip(inside, whole, strict=True):
        problem = "; ".join(part.errors or full.errors) or None
        if part.name == "trade_persistence" and problem:
            problem = (
                "needs the broker's fills: run "
                f"`pytest slo/ -k trade_persistence --ops-as-of {utc(until)}`"
            )
        burns.append(
            Burn(part.name, part.title, full.config.objective,
                 None if problem else part.window.bad,
                 None if problem else full.budget.allowed,
                 None if problem else full.budget.remaining, problem)
        )  # fmt: skip
    return burns


def build(manifest: Manifest, since_ms: int, until_ms: int, reports_root: Path) -> Draft:
    """Read every source for the window; the connector's error if the store cannot be read."""
    store = EventStore.of(manifest)
    try:
        factor = manifest.thresholds.stale_after_heartbeats
        entries = store_entries(store, since_ms, until_ms, factor)
        kept, subjects = run_entries(reports_root, since_ms, until_ms)
        entries = sorted([*entries, *kept], key=lambda e: (e.ts_ms, e.source))
        history_file = reports_root / Path(manifest.reports.history_db).expanduser()
        history = ProbeHistory(history_file) if history_file.is_file() else None
        burns = _burns(manifest, store, history, since_ms, until_ms)
    finally:
        store.close()
    return Draft(
        since_ms, until_ms, manifest.event_store.path, reports_root, entries, burns, subjects
    )


def utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(ms: int) -> str:
    seconds = round(ms / 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} h"] * bool(hours) + [f"{minutes} min"] * bool(minutes) + [f"{seconds} s"]
    return " ".join(parts)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"
