"""Shared pieces of the SLO tests: a pinned "now" (freezegun) and small-store helpers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time

from tests.storebuilder import NOW_MS, StoreBuilder
from tradeops.config import SLO_DEFAULTS, SloConfig
from tradeops.connectors.event_store import EventStore
from tradeops.slo.objectives import BrokerFills, Measurement, measure

FROZEN_AT = "2026-11-18T11:06:40Z"  # == tests.storebuilder.NOW_MS
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


@pytest.fixture
def now_ms() -> Iterator[int]:
    """The test's "now", pinned with freezegun: every clock read in the test sees it."""
    with freeze_time(FROZEN_AT):
        now = int(time.time() * 1000)
        assert now == NOW_MS
        yield now


@pytest.fixture
def builder(tmp_path: Path, now_ms: int) -> StoreBuilder:
    """An empty small store (WAL mode on write) whose "now" is the pinned instant."""
    return StoreBuilder(tmp_path / "events.sqlite", now_ms=now_ms)


def measured(
    store_path: Path,
    name: str,
    now_ms: int,
    *,
    fills: BrokerFills | None = None,
    **overrides: object,
) -> Measurement:
    """One SLI measured on a store file, with the model's defaults unless overridden."""
    config = SloConfig(**{**SLO_DEFAULTS[name].__dict__, **overrides})
    with EventStore(store_path) as store:
        return measure(name, store, config, now_ms, fills=fills)
