"""The new faults end to end: a real sandbox per scenario, read through the suite's connectors.

Each test starts the scenario's sandbox (real processes on 127.0.0.1, a real WAL store)
and looks at it the way the checks do, so the fault is proven to reach what they read.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tradeops.config import Manifest, load_manifest
from tradeops.connectors.control_plane import ControlPlane
from tradeops.connectors.oanda import OandaBroker
from tradeops.market import fx_market_open
from tradeops.sandbox.platform import WAL_MAX_MB, Sandbox
from tradeops.sandbox.scenarios import ACCOUNTS
from tradeops.sandbox.store.generator import StoreParams

PARAMS = StoreParams(days=3, strategies=3, heartbeat_interval_s=60)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One history cache for the module: each sandbox only copies it."""
    return tmp_path_factory.mktemp("cache")


@contextmanager
def _running(directory: Path, cache: Path, scenario: str) -> Iterator[tuple[Manifest, dict]]:
    """The scenario's sandbox, running: (its manifest with tokens, its sandbox.json)."""
    with Sandbox(scenario, directory=directory, params=PARAMS, cache_dir=cache) as sandbox:
        assert sandbox.manifest_path is not None
        manifest = load_manifest(sandbox.manifest_path, {**os.environ, **sandbox.environ})
        yield manifest, json.loads((directory / "sandbox.json").read_text())


def _broker(manifest: Manifest, account: str) -> OandaBroker:
    b = next(b for b in manifest.brokers if account in b.accounts)
    return OandaBroker(b.name, b.url, b.token, b.timeout_s)


def test_the_sandbox_manifest_sizes_the_wal_limit_for_the_sandbox(tmp_path, cache) -> None:
    with _running(tmp_path, cache, "healthy") as (manifest, config):
        assert manifest.thresholds.wal_max_mb == WAL_MAX_MB
        assert config["writer"] == {"checkpoint_stalled": False, "diagnostic_mb": 2 * WAL_MAX_MB}
        assert config["broker"]["prices_frozen_s"] == 0 and config["broker"]["price_gap"] == {}
        assert (
            config["control_plane"]["health_delay_s"],
            config["control_plane"]["clock_offset_s"],
        ) == (0, 0)


def test_writer_stopped_starts_no_writer_and_the_last_write_is_five_minutes_old(
    tmp_path, cache
) -> None:
    with _running(tmp_path, cache, "writer-stopped") as (manifest, config):
        with sqlite3.connect(f"file:{manifest.event_store.path}?mode=ro", uri=True) as con:
            [(newest,)] = con.execute("SELECT ts FROM events ORDER BY seq DESC LIMIT 1")
        stopped = config["notes"]["writer_stopped"]["last_write_ms"]
        assert stopped == config["now_ms"] - 300_000
        assert stopped - PARAMS.heartbeat_interval_s * 1000 < newest <= stopped
        assert not (tmp_path / "writer.log").exists()  # the process was never started
        with ControlPlane(manifest.control_plane.url, manifest.control_plane.token, 2.0) as cp:
            health = cp.health()
        assert health.ok and health.last_write == datetime.fromtimestamp(newest / 1000, UTC)


def test_clock_skew_puts_the_platform_two_minutes_ahead(tmp_path, cache) -> None:
    with (
        _running(tmp_path, cache, "clock-skew") as (manifest, _),
        ControlPlane(manifest.control_plane.url, manifest.control_plane.token, 2.0) as cp,
    ):
        ahead = cp.health().time - datetime.now(UTC)
    assert timedelta(seconds=100) < ahead <= timedelta(seconds=120)


def test_prices_stale_serves_quotes_ten_minutes_old_that_still_say_tradeable(
    tmp_path, cache
) -> None:
    with (
        _running(tmp_path, cache, "prices-stale") as (manifest, config),
        _broker(manifest, ACCOUNTS[0]) as broker,
    ):
        prices = broker.pricing(ACCOUNTS[0], ["EUR_USD", "USD_JPY"])
    if not fx_market_open(datetime.now(UTC)):
        pytest.skip("the market is closed: the simulator answers the Friday close")
    stopped_ms = config["notes"]["prices_frozen"]["frozen_at_ms"]
    assert stopped_ms == config["now_ms"] - 600_000
    stopped = datetime.fromtimestamp(stopped_ms / 1000, UTC)
    assert {(p.time, p.tradeable) for p in prices} == {(stopped, True)}


def test_wal_growing_leaves_a_wal_twice_the_limit(tmp_path, cache) -> None:
    with _running(tmp_path, cache, "wal-growing") as (manifest, config):
        size = Path(f"{manifest.event_store.path}-wal").stat().st_size
        assert config["writer"]["checkpoint_stalled"] is True
        assert size > 2 * manifest.thresholds.wal_max_mb * 1_000_000


def test_daily_loss_breach_gaps_eur_usd_so_account_001_is_down_about_five_percent(
    tmp_path, cache
) -> None:
    with (
        _running(tmp_path, cache, "daily-loss-breach") as (manifest, config),
        _broker(manifest, ACCOUNTS[0]) as broker,
    ):
        summary = broker.summary(ACCOUNTS[0])
    assert config["broker"]["price_gap"] == config["notes"]["price_gap"]
    assert Decimal(config["broker"]["price_gap"]["EUR_USD"]) < 0
    loss = -summary.unrealized_pl / summary.balance
    assert abs(loss - Decimal("0.05")) < Decimal("0.005")
    assert summary.margin_closeout_percent < Decimal("0.5")
