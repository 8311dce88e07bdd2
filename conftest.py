"""Session fixtures: the platform's connectors, the manifest, the clock, the layer-1 verdict.

Connectors are lazy: creating one never touches the platform, so a broken part fails
the check that reads it (with the connector's message), not every check's setup.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest

from tradeops._session import OpsSession
from tradeops.config import Manifest
from tradeops.connectors._store_facts import by_run, by_strategy, trade_stats_by_strategy
from tradeops.connectors.control_plane import ControlPlane
from tradeops.connectors.errors import BrokerError, StoreValueError
from tradeops.connectors.event_store import EventStore
from tradeops.connectors.oanda import OandaBroker
from tradeops.exposure import RefusedInstruments, account_exposure
from tradeops.probe import PlatformVerdict

DAY_MS = 86_400_000


@pytest.fixture(scope="session")
def manifest(ops: OpsSession) -> Manifest:
    """The manifest; fails the check when no platform is configured."""
    return ops.require_manifest()


@pytest.fixture(scope="session")
def now_ms(ops: OpsSession) -> int:
    """The session's instant (epoch ms, UTC): every check judges the same moment."""
    return ops.now_ms


@pytest.fixture(scope="session")
def platform_verdict(ops: OpsSession, manifest: Manifest) -> PlatformVerdict:
    """Layer 1 as probed once on the controller."""
    assert ops.verdict is not None, "the platform probe did not run"
    return ops.verdict


@pytest.fixture(scope="session")
def event_store(manifest: Manifest) -> Iterator[EventStore]:
    """The event store, read-only."""
    store = EventStore.of(manifest)
    yield store
    store.close()


@pytest.fixture(scope="session")
def control_plane(manifest: Manifest) -> Iterator[ControlPlane]:
    """The control plane API client (GET only)."""
    client = ControlPlane.of(manifest)
    yield client
    client.close()


@pytest.fixture(scope="session")
def brokers(ops: OpsSession, manifest: Manifest) -> dict[str, OandaBroker]:
    """One OANDA client per configured broker, by broker name: the process's own, which
    the SLO thread shares (OpsSession.brokers), closed when the session ends."""
    return ops.brokers()


@pytest.fixture(scope="session")
def slo_now_ms(ops: OpsSession) -> int:
    """The instant SLOs are judged at: --ops-as-of, else the session clock."""
    return ops.slo_now_ms


# -- facts shared by the layer-2 and layer-3 checks, read once per worker ---------------


@pytest.fixture(scope="session")
def live_runs(event_store: EventStore, now_ms: int) -> dict:
    """strategy id -> its live run (the newest, if a strategy has several)."""
    runs = sorted(event_store.live_runs(now_ms), key=lambda run: run.started_seq)
    return {run.strategy_id: run for run in runs}


@pytest.fixture(scope="session")
def store_positions(event_store: EventStore) -> dict:
    """(account, instrument) -> the store's net units."""
    return event_store.net_positions()


@pytest.fixture(scope="session")
def unresolved_alerts(event_store: EventStore) -> dict:
    """strategy id -> its unresolved reconciliation alerts (one read for all strategies)."""
    return by_strategy(event_store.unresolved_alerts())


@pytest.fixture(scope="session")
def pending_gates(event_store: EventStore) -> dict:
    """strategy id -> its pending promote gates (one read for all strategies)."""
    return by_strategy(event_store.pending_gates())


@pytest.fixture(scope="session")
def live_gaps(event_store: EventStore, live_runs: dict):
    """run id -> the holes in its run_seq: every live run read at once."""
    ids = [run.run_id for run in live_runs.values()]
    return _per_run(lambda runs: event_store.gaps(runs), ids)


@pytest.fixture(scope="session")
def live_stale_detections(event_store: EventStore, live_runs: dict):
    """run id -> its STALE_DETECTED events: every live run read at once."""
    ids = [run.run_id for run in live_runs.values()]
    return _per_run(lambda runs: event_store.stale_detections(run_ids=runs), ids)


def _per_run(read, run_ids: list[str]):
    """A lookup by run id over one grouped read; when that read meets a bad row, each run
    is read alone, so only the check of the run holding the row fails (with its error)."""
    try:
        grouped = by_run(read(run_ids))
    except StoreValueError:
        return functools.cache(lambda run_id: read([run_id]))
    return lambda run_id: grouped.get(run_id, [])


@pytest.fixture(scope="session")
def tracking_stats(event_store: EventStore, manifest: Manifest, now_ms: int) -> dict:
    """strategy id -> its closed trades' statistics over the tracking window (one read)."""
    since = now_ms - int(manifest.tracking.window_days * DAY_MS)
    return trade_stats_by_strategy(event_store, since)


@pytest.fixture(scope="session")
def backtests(control_plane: ControlPlane) -> dict:
    """strategy id -> what its backtest promised."""
    return {s.strategy_id: s.backtest for s in control_plane.strategies()}


def _broker_of(manifest: Manifest, brokers: dict[str, OandaBroker], account: str) -> OandaBroker:
    return next(brokers[b.name] for b in manifest.brokers if account in b.accounts)


@pytest.fixture(scope="session")
def account_summary(manifest, brokers):
    """account -> the broker's account summary, fetched once per worker."""
    return functools.cache(lambda account: _broker_of(manifest, brokers, account).summary(account))


@pytest.fixture(scope="session")
def broker_positions(manifest, brokers):
    """account -> {instrument: net units} of the broker's open positions."""

    @functools.cache
    def positions(account: str) -> dict[str, int]:
        broker = _broker_of(manifest, brokers, account)
        return {
            p.instrument: int(p.net_units)
            for p in broker.open_positions(account)
            if int(p.net_units)
        }

    return positions


@pytest.fixture(scope="session")
def currency_exposure(manifest, brokers, broker_positions, account_summary):
    """account -> {currency: net exposure valued in the account's currency}."""

    @functools.cache
    def exposure(account: str) -> dict:
        broker = _broker_of(manifest, brokers, account)

        def mids(names: list[str]) -> dict:
            try:
                return {p.instrument: (p.bid + p.ask) / 2 for p in broker.pricing(account, names)}
            except BrokerError as exc:
                if exc.kind == "http":  # OANDA's 400: a name it does not offer
                    raise RefusedInstruments(str(exc)) from None
                raise

        positions = broker_positions(account)
        if not positions:
            return {}
        return account_exposure(positions, account_summary(account).currency, mids)

    return exposure
