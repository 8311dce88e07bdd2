"""One SLO evaluated: the measurement, its budget and burn alerts, and how to say it.

A result is plain data that crosses xdist workers as JSON (`to_json`/`from_json`), so the
controller can render the gate table from whatever worker evaluated it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field

from tradeops._record import frozen_record
from tradeops.config import SloConfig
from tradeops.slo.budget import (
    EXHAUSTED,
    INSUFFICIENT,
    PAGE,
    TICKET,
    WARNING,
    Budget,
    BurnAlert,
    Counts,
    Judgement,
    budget,
    burn_alerts,
)


@frozen_record
class SloResult:
    """An SLO as of `now_ms`: counts in its window and alert windows, errors, notes."""

    name: str
    title: str
    severity: str
    config: SloConfig
    now_ms: int
    window: Counts = field(default_factory=Counts)
    alert_windows: dict[str, Counts] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def judgement(self) -> Judgement:
        """The budget, the burn alerts and the verdict."""
        cfg = self.config
        return Judgement(
            budget(cfg.objective, self.window, cfg.min_events),
            burn_alerts(cfg.objective, cfg.window_days, self.alert_windows),
            self.errors,
        )

    @property
    def budget(self) -> Budget:
        """The error budget over the SLO window."""
        return self.judgement.budget

    @property
    def alerts(self) -> tuple[BurnAlert, ...]:
        """Every burn-rate rule, evaluated."""
        return self.judgement.alerts

    @property
    def verdict(self) -> str:
        """One of budget.VERDICTS."""
        return self.judgement.verdict

    @property
    def valid(self) -> bool:
        """The SLI could be measured."""
        return not self.errors

    def blocks_gate(self, insufficient_data_blocks: bool = False) -> bool:
        """Does this SLO stop a promotion? Exhausted, a page firing, unmeasurable, or
        (when so configured) insufficient data."""
        verdict = self.verdict
        if verdict == INSUFFICIENT:
            return insufficient_data_blocks
        if verdict == EXHAUSTED:
            return True
        return not self.valid or any(a.firing and a.severity == PAGE for a in self.alerts)

    def problem(self) -> str | None:
        """What is wrong, in one operator's sentence, or None when nothing is."""
        b = self.budget
        if self.errors:
            return f"{self.title}: cannot be measured: {'; '.join(self.errors)}"
        if self.verdict == INSUFFICIENT:
            return (
                f"{self.title}: insufficient data: {b.eligible} eligible events in "
                f"{days(self.config.window_days)}, need {b.min_events} to judge"
            )
        parts = []
        if self.verdict == EXHAUSTED:
            parts.append(
                f"error budget exhausted (freeze): {b.bad} bad of {b.eligible} eligible in "
                f"{days(self.config.window_days)}, {percent(b.consumed, 0)} of the budget "
                f"of {b.allowed:.1f} used (objective {percent(b.objective)}, actual "
                f"{percent(b.actual)})"
            )
        elif b.state == WARNING:
            parts.append(
                f"{percent(b.consumed, 0)} of the error budget used (warning at 50%): "
                f"{b.bad} bad of {b.eligible} eligible"
            )
        parts += [
            f"{a.severity} {a.pair}: burn rates {rate(a.long_rate)} and {rate(a.short_rate)} "
            f"above {a.factor:.3g}"
            for a in self.alerts
            if a.firing
        ]
        return f"{self.title}: {'; '.join(parts)}" if parts else None

    def headline(self) -> str:
        """The SLO and its verdict in a few words: "run success (budget exhausted: freeze)"."""
        verdict = self.verdict
        if verdict == EXHAUSTED:
            why = "budget exhausted: freeze"
        elif verdict == INSUFFICIENT:
            why = "insufficient data"
        elif not self.valid:
            why = "cannot be measured"
        elif self.firing_pairs:
            why = ", ".join(self.firing_pairs)
        else:
            why = verdict
        return f"{self.title} ({why})"

    @property
    def firing_pairs(self) -> list[str]:
        """The alert pairs that fire, as "page 1h/5m"."""
        return [f"{a.severity} {a.pair}" for a in self.alerts if a.firing]

    @property
    def needs_attention(self) -> bool:
        """A warning-level state that shows in every report but blocks nothing."""
        return self.verdict in (TICKET, WARNING)

    def figures(self) -> dict:
        """The SLO's figures for machines (the verdict document): no budget figures are
        claimed where there is too little data to judge."""
        b = self.budget
        judged = self.valid and self.verdict != INSUFFICIENT
        return {
            "name": self.name,
            "title": self.title,
            "severity": self.severity,
            "objective": self.config.objective,
            "window_days": self.config.window_days,
            "required": self.config.required,
            "eligible": b.eligible,
            "bad": b.bad,
            "min_events": b.min_events,
            "actual": b.actual if judged else None,
            "budget_total": b.allowed if judged else None,
            "budget_consumed": b.consumed if judged else None,
            "budget_remaining": b.remaining if judged else None,
            "burn": [
                {
                    "pair": a.pair,
                    "severity": a.severity,
                    "threshold": a.factor,
                    "long_rate": a.long_rate if judged else None,
                    "short_rate": a.short_rate if judged else None,
                    "firing": a.firing and judged,
                }
                for a in self.alerts
            ],
            "firing": self.firing_pairs if judged else [],
            "verdict": self.verdict,
            "problem": self.problem(),
            "errors": list(self.errors),
            "notes": list(self.notes),
        }

    def to_json(self) -> dict:
        """Plain JSON: the result rebuilt by from_json judges the same."""
        data = dataclasses.asdict(self)
        data["alert_windows"] = {n: dataclasses.asdict(c) for n, c in self.alert_windows.items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> SloResult:
        """The inverse of to_json."""
        return cls(
            name=data["name"],
            title=data["title"],
            severity=data["severity"],
            config=SloConfig(**data["config"]),
            now_ms=data["now_ms"],
            window=Counts(**data["window"]),
            alert_windows={n: Counts(**c) for n, c in data["alert_windows"].items()},
            errors=tuple(data["errors"]),
            notes=tuple(data["notes"]),
        )


def percent(value: float | None, places: int = 2) -> str:
    """A ratio as a percentage without noise: 0.999 -> "99.9%", None -> "-"."""
    if value is None:
        return "-"
    if value == float("inf"):
        return "inf%"
    text = f"{value * 100:.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "%"


def rate(value: float | None) -> str:
    """A burn rate: "3.4", "-" with no events in the window."""
    return "-" if value is None else f"{value:.3g}"


def days(value: float) -> str:
    """A window length: "7 d", "0.5 d"."""
    return f"{value:g} d"


class SloWarning(UserWarning):
    """An SLO that needs attention but blocks nothing: 50% of its budget, a ticket burn,
    insufficient data at the gate, malformed rows it skipped."""
