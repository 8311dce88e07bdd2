"""What the scenario table expects of a run, as the matrix tests read it."""

from __future__ import annotations

from datetime import UTC, datetime

from tradeops.market import fx_market_open
from tradeops.probe._layer1 import CHECKS as PLATFORM_CHECKS
from tradeops.sandbox.scenarios import SCENARIOS


def expected_failures(name: str) -> dict[str, str]:
    """check id -> severity the scenario must fail with (now: market hours honoured)."""
    scenario = SCENARIOS[name]
    if scenario.market_hours_only and not fx_market_open(datetime.now(UTC)):
        return {}
    return scenario.failing_checks


def platform_red(expected: dict[str, str]) -> bool:
    """Does the scenario turn layer 1 red (so every check above it is unreliable)?"""
    return any(check in PLATFORM_CHECKS for check in expected)
