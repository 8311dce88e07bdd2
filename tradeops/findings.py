"""What a check found: data, not exceptions, until the check decides to fail.

A Finding says what is wrong and where (strategy, account, run, event seq). A check
collects findings and calls `expect_none(findings)`; the plugin turns the raised
CheckFailed into the operator's failure text, led by the severity.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, field
from datetime import UTC, datetime

from tradeops._record import frozen_record

SEVERITIES = ("P0", "P1", "P2", "P3")


def utc(ts_ms: int) -> str:
    """An event time (epoch ms) as findings print it: 2026-11-24T09:00:00Z."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def highest(levels: Iterable[str | None]) -> str | None:
    """The most severe of the given levels (P0 beats P1), or None if there are none."""
    ranked = sorted(level for level in levels if level)
    return ranked[0] if ranked else None


@frozen_record
class Where:
    """The place a finding points at; empty parts are left out of the text."""

    strategy: str | None = None
    account: str | None = None
    instrument: str | None = None
    run: str | None = None
    seq: int | None = None

    @classmethod
    def of_run(cls, run, seq: int | None = None) -> Where:
        """Where a run is: its strategy, account, instrument and id (and an event seq)."""
        return cls(run.strategy_id, run.account_id, run.instrument, run.run_id, seq)

    def __str__(self) -> str:
        parts = [
            ("strategy", self.strategy),
            ("account", self.account),
            ("instrument", self.instrument),
            ("run", self.run),
            ("seq", self.seq),
        ]
        return ", ".join(f"{name} {value}" for name, value in parts if value is not None)


@frozen_record
class Finding:
    """One thing wrong, where it is, and (when it differs from the check's) its severity."""

    what: str
    where: Where = field(default_factory=Where)
    severity: str | None = None

    def __str__(self) -> str:
        place = str(self.where)
        return f"{self.what} [{place}]" if place else self.what

    def to_json(self) -> dict:
        return {"what": self.what, "where": asdict(self.where), "severity": self.severity}

    @classmethod
    def from_json(cls, data: dict) -> Finding:
        return cls(data["what"], Where(**data.get("where") or {}), data.get("severity"))


class CheckFailed(AssertionError):
    """Raised by a check with its findings; the plugin renders it for the operator."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = list(findings)
        super().__init__("\n".join(str(f) for f in self.findings))


def expect_none(findings: Iterable[Finding]) -> None:
    """Fail the calling check with every finding, or return quietly if there are none."""
    found = list(findings)
    if found:
        raise CheckFailed(found)
