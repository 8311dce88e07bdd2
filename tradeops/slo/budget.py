"""Error budgets, the budget policy and multiwindow burn-rate alerts, as plain data.

Nothing here reads a clock or a store: an SLI measurement (good/bad counts per window)
goes in, a judgement comes out. A result is data (`valid`, `errors`), never an exception.
"""

from __future__ import annotations

import math
from dataclasses import field

from tradeops._record import frozen_record
from tradeops.config import SloConfig

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# Budget policy thresholds: share of the error budget consumed.
WARN_AT = 0.5
FREEZE_AT = 1.0

# The alert windows every SLI is also counted over (name -> length in ms).
ALERT_WINDOWS: dict[str, int] = {
    "5m": 5 * 60_000,
    "30m": 30 * 60_000,
    "1h": HOUR_MS,
    "6h": 6 * HOUR_MS,
    "3d": 3 * DAY_MS,
}

# Verdicts, most serious first: the table and the gate sort and read them in this order.
ERROR = "error"
INSUFFICIENT = "insufficient data"
EXHAUSTED = "exhausted"
PAGE = "page"
TICKET = "ticket"
WARNING = "warning"
OK = "ok"
VERDICTS = (ERROR, INSUFFICIENT, EXHAUSTED, PAGE, TICKET, WARNING, OK)


@frozen_record
class Counts:
    """Eligible and bad events in one window (good = eligible - bad)."""

    eligible: int = 0
    bad: int = 0

    @property
    def good(self) -> int:
        """Eligible events that met the objective."""
        return self.eligible - self.bad


@frozen_record
class AlertRule:
    """One multiwindow rule of the SRE workbook, stated for a 30-day SLO window.

    It fires when both windows burn faster than `factor_30d` scaled to the SLO's own
    window: the same share of the budget consumed in the long window, whatever the SLO's
    window is (factor = share x SLO window / long window).
    """

    severity: str
    long: str
    short: str
    factor_30d: float

    @property
    def pair(self) -> str:
        """The window pair as people say it: "1h/5m"."""
        return f"{self.long}/{self.short}"

    @property
    def budget_share(self) -> float:
        """Share of a 30-day budget the long window consumes at the threshold (1h x 14.4 = 2%)."""
        return self.factor_30d * ALERT_WINDOWS[self.long] / (30 * DAY_MS)

    def factor(self, window_days: float) -> float:
        """The burn-rate threshold for an SLO window of this many days."""
        long_ms = min(ALERT_WINDOWS[self.long], window_days * DAY_MS)
        return self.budget_share * window_days * DAY_MS / long_ms


ALERT_RULES: tuple[AlertRule, ...] = (
    AlertRule(PAGE, "1h", "5m", 14.4),
    AlertRule(PAGE, "6h", "30m", 6.0),
    AlertRule(TICKET, "3d", "6h", 1.0),
)


@frozen_record
class Budget:
    """An error budget: (1 - objective) x eligible events, and how much of it is spent."""

    objective: float
    eligible: int
    bad: int
    allowed: float  # bad events the objective allows in the window
    consumed: float  # bad / allowed; 0 with no eligible events
    min_events: int

    @property
    def remaining(self) -> float:
        """Share of the budget left: 1 - consumed (negative once overspent)."""
        return 1.0 - self.consumed

    @property
    def sufficient(self) -> bool:
        """Enough eligible events in the window to judge at all."""
        return self.eligible >= self.min_events

    @property
    def actual(self) -> float | None:
        """The measured good ratio, or None with no eligible events."""
        return (self.eligible - self.bad) / self.eligible if self.eligible else None

    @property
    def state(self) -> str:
        """The policy: ok under 50% consumed, warning from 50%, exhausted (freeze) at 100%."""
        if not self.sufficient:
            return INSUFFICIENT
        if _reached(self.consumed, FREEZE_AT):
            return EXHAUSTED
        if _reached(self.consumed, WARN_AT):
            return WARNING
        return OK


def _reached(consumed: float, threshold: float) -> bool:
    """consumed >= threshold, forgiving the last bits of float arithmetic."""
    return consumed >= threshold or math.isclose(consumed, threshold, rel_tol=1e-9)


def budget(objective: float, counts: Counts, min_events: int = 0) -> Budget:
    """The error budget of `counts` under `objective` (0 < objective < 1)."""
    # 1 - 0.999 is 0.0010000000000000009 in floats: round it, or 10 bad of 10 000 would
    # read as 99.99999% of the budget and never freeze.
    allowed = round(1.0 - objective, 12) * counts.eligible
    # Nothing is allowed only when nothing is eligible (0 < objective < 1): then nothing is bad.
    consumed = counts.bad / allowed if allowed > 0 else 0.0
    return Budget(objective, counts.eligible, counts.bad, allowed, consumed, min_events)


def burn_rate(objective: float, counts: Counts) -> float | None:
    """How fast the budget burns in a window: bad ratio / (1 - objective); None if no events."""
    if counts.eligible <= 0:
        return None
    return (counts.bad / counts.eligible) / round(1.0 - objective, 12)


@frozen_record
class BurnAlert:
    """One rule evaluated: both windows' burn rates, the threshold, whether it fires."""

    severity: str
    pair: str
    factor: float
    long_rate: float | None
    short_rate: float | None

    @property
    def firing(self) -> bool:
        """Both windows burn faster than the factor (no events in a window never fires)."""
        return (
            self.long_rate is not None
            and self.short_rate is not None
            and self.long_rate > self.factor
            and self.short_rate > self.factor
        )


def burn_alerts(
    objective: float, window_days: float, windows: dict[str, Counts]
) -> tuple[BurnAlert, ...]:
    """Every alert rule evaluated on the per-window counts."""
    return tuple(
        BurnAlert(
            rule.severity,
            rule.pair,
            rule.factor(window_days),
            burn_rate(objective, windows.get(rule.long, Counts())),
            burn_rate(objective, windows.get(rule.short, Counts())),
        )
        for rule in ALERT_RULES
    )


@frozen_record
class Judgement:
    """An SLO judged: its budget, its burn alerts and one verdict from VERDICTS."""

    budget: Budget
    alerts: tuple[BurnAlert, ...] = ()
    errors: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        """The SLI could be measured."""
        return not self.errors

    @property
    def firing(self) -> tuple[BurnAlert, ...]:
        """The alerts that fire, pages first."""
        return tuple(a for a in self.alerts if a.firing)

    @property
    def verdict(self) -> str:
        """error > insufficient data > exhausted > page > ticket > warning > ok."""
        if self.errors:
            return ERROR
        state = self.budget.state
        if state in (INSUFFICIENT, EXHAUSTED):
            return state
        severities = {a.severity for a in self.firing}
        if PAGE in severities:
            return PAGE
        if TICKET in severities:
            return TICKET
        return state


def judge(config: SloConfig, window: Counts, alert_windows: dict[str, Counts]) -> Judgement:
    """Budget and burn alerts of one SLI measurement under its configuration."""
    return Judgement(
        budget(config.objective, window, config.min_events),
        burn_alerts(config.objective, config.window_days, alert_windows),
    )
