"""The platform probe: layer 1 observed once, on the controller, before any check runs.

Layer-1 facts decide whether the layers above can be judged at all, so they are
gathered once per session (not once per xdist worker: a hung broker must cost one
timeout, not one per worker) and handed to every worker as plain JSON, together with
what the upper layers are parametrized by (the scheduled strategies, the accounts) and
which accounts' positions diverge (their portfolio figures are unreliable).
The probe never raises: whatever goes wrong becomes a finding.
"""

from __future__ import annotations

import time
from dataclasses import field

from tradeops._record import frozen_record
from tradeops.config import Manifest
from tradeops.connectors.errors import PlatformError
from tradeops.findings import Finding, expect_none, highest
from tradeops.probe._layer1 import CHECKS, SEVERITY, Unjudged
from tradeops.probe._observe import Observed, StoreFacts, elapsed_ms, observe

__all__ = ["PlatformVerdict", "probe_platform"]


@frozen_record
class PlatformVerdict:
    """Layer-1 findings per check id; red when any check has a finding."""

    findings: dict[str, list[Finding]]
    unjudged: dict[str, str] = field(default_factory=dict)
    strategies: list[dict] | None = None  # scheduled strategies; None if unknown
    strategies_error: str | None = None
    diverged: dict[str, str] = field(default_factory=dict)  # account -> why
    control_plane: dict = field(default_factory=dict)  # ts_ms, ok, latency_ms, error
    retried: list[str] = field(default_factory=list)  # calls answered only after 1 retry
    took_ms: float = 0.0

    @property
    def red_checks(self) -> list[str]:
        return [check for check, found in self.findings.items() if found]

    @property
    def red(self) -> bool:
        return bool(self.red_checks)

    def severity(self, check: str) -> str | None:
        """A red layer-1 check's severity: its most severe finding, else the check's own."""
        return highest(f.severity or SEVERITY.get(check) for f in self.of(check))

    def of(self, check: str) -> list[Finding]:
        """The findings of one layer-1 check (empty when it is green)."""
        return self.findings.get(check, [])

    def expect_green(self, check: str) -> None:
        """Fail the calling check with its findings, or skip it when it could not be judged."""
        if check in self.unjudged:
            import pytest

            pytest.skip(self.unjudged[check])
        expect_none(self.of(check))

    def to_json(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k != "findings"}
        data["findings"] = {c: [f.to_json() for f in fs] for c, fs in self.findings.items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> PlatformVerdict:
        findings = {c: [Finding.from_json(f) for f in fs] for c, fs in data["findings"].items()}
        return cls(**{**data, "findings": findings})


def probe_platform(manifest: Manifest, now_ms: int) -> PlatformVerdict:
    """Observe the platform once and judge layer 1."""
    started = time.perf_counter()
    tolerance_ms = int(manifest.thresholds.sequence_tolerance_s * 1000)
    observed = observe(manifest, now_ms, tolerance_ms)
    findings: dict[str, list[Finding]] = {}
    unjudged: dict[str, str] = {}
    for check, judge in CHECKS.items():
        try:
            result = judge(observed, manifest)
        except Exception as exc:  # a judging bug is a red check, never an INTERNALERROR
            result = [Finding(f"the suite could not judge this: {type(exc).__name__}: {exc}")]
        if isinstance(result, Unjudged):
            unjudged[check] = result.reason
        else:
            findings[check] = result
    strategies, strategies_error = _scheduled(observed)
    return PlatformVerdict(
        findings=findings,
        unjudged=unjudged,
        strategies=strategies,
        strategies_error=strategies_error,
        diverged=_diverged_accounts(observed),
        control_plane=_control_plane_probe(observed),
        retried=observed.retried,
        took_ms=elapsed_ms(started),
    )


def _scheduled(o: Observed) -> tuple[list[dict] | None, str | None]:
    if isinstance(o.strategies, PlatformError) or o.strategies is None:
        return None, str(o.strategies)
    return [
        {"strategy_id": s.strategy_id, "instrument": s.instrument, "account_id": s.account_id}
        for s in sorted(o.strategies, key=lambda s: s.strategy_id)
        if s.scheduled
    ], None


def _diverged_accounts(o: Observed) -> dict[str, str]:
    """Accounts whose store positions differ from the broker's (or could not be compared)."""
    if not isinstance(o.store, StoreFacts):
        return {account: "event store unreadable" for account in o.positions}
    out = {}
    for account, positions in o.positions.items():
        if isinstance(positions, PlatformError):
            out[account] = f"broker positions unavailable: {positions}"
            continue
        broker = {p.instrument: int(p.net_units) for p in positions if int(p.net_units)}
        store = {i: u for (a, i), u in o.store.net_positions.items() if a == account and u}
        unknown = [u for u in store.values() if isinstance(u, PlatformError)]
        if unknown:  # a fill with unusable units: the store's positions are in doubt
            out[account] = f"store positions unreadable: {unknown[0]}"
            continue
        differ = sorted(set(broker) | set(store))
        differ = [i for i in differ if broker.get(i, 0) != store.get(i, 0)]
        if differ:
            out[account] = "positions diverge on " + ", ".join(
                f"{i} (store {store.get(i, 0)}, broker {broker.get(i, 0)})" for i in differ
            )
    return out


def _control_plane_probe(o: Observed) -> dict:
    """The control-plane probe as the suite's own history records it."""
    if isinstance(o.health, PlatformError) or o.health is None:
        return {"ts_ms": o.at_ms, "ok": False, "latency_ms": None, "error": str(o.health)}
    return {
        "ts_ms": o.at_ms,
        "ok": o.health.ok,
        "latency_ms": o.health.latency_ms,
        "error": None if o.health.ok else f"status {o.health.status!r}",
    }
