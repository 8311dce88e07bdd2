"""Layer 1, the platform: is the software running?

Observed once before the session (see tradeops/probe): the control plane answers in
time, every broker account is reachable with fresh tradeable prices while the market
is open, the event store is readable, written to, in WAL mode, shaped as the contract
says, appended in order, its WAL bounded, and the platform's clock agrees with ours.
Broker reachability and WAL mode are pre-flight items (checks/preflight).
If any check here is red, layers 2 and 3 are reported unreliable, not judged.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.platform


@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="control-plane-down")
def test_control_plane_health(platform_verdict):
    """The control plane answers GET /api/health with 200 "ok" within its latency budget."""
    platform_verdict.expect_green("control_plane_health")


@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="broker-prices")
def test_broker_prices(platform_verdict):
    """Every account's prices are fresh and tradeable while the FX market is open."""
    platform_verdict.expect_green("broker_prices")


@pytest.mark.severity(level="P1")
@pytest.mark.runbook(id="event-store-writes")
def test_event_store_writes(platform_verdict):
    """The event store is readable and, while runs are live, accepting writes."""
    platform_verdict.expect_green("event_store_writes")


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="event-store-schema")
def test_event_store_schema(platform_verdict):
    """The events table has the contract's columns and indexes."""
    platform_verdict.expect_green("event_store_schema")


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="event-store-sequence")
def test_event_store_sequence(platform_verdict):
    """Events are appended in time order: ts never goes back against seq."""
    platform_verdict.expect_green("event_store_sequence")


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="wal-growth")
def test_wal_growth(platform_verdict):
    """The WAL file is not growing without bound."""
    platform_verdict.expect_green("wal_growth")


@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="clock-skew")
def test_clock_skew(platform_verdict):
    """The platform's clock agrees with ours."""
    platform_verdict.expect_green("clock_skew")
