"""Look at the live platform once: every network call concurrent, every failure kept as data.

A hung broker must cost one timeout for the whole probe, so each call (health,
strategies, and per account: summary, prices, positions) is its own job in a thread
pool. The store is read first and locally: it says which instruments each account trades.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tradeops.config import Manifest
from tradeops.connectors.control_plane import ControlPlane, Health, Strategy
from tradeops.connectors.errors import PlatformError, StoreValueError
from tradeops.connectors.event_store import EventStore, Run
from tradeops.connectors.oanda import OandaBroker

# Traded when the store names no live run for an account: the price API is still probed.
FALLBACK_INSTRUMENTS = ["EUR_USD"]
SEQUENCE_LOOKBACK = 20_000  # recent events checked for out-of-order timestamps


@dataclass
class StoreFacts:
    """What the probe read from the event store."""

    journal_mode: str
    newest: tuple[int, int] | StoreValueError | None
    live_runs: list[Run]
    columns: dict[str, str]
    indexes: dict[str, list[str]]
    regressions: list[tuple[int, int, int]]
    net_positions: dict[tuple[str, str], int | StoreValueError]
    wal_bytes: int
    bad_timestamps: list[tuple[int, str, str]] = field(default_factory=list)


@dataclass
class Observed:
    """One look at the platform; each part is its answer or the PlatformError it raised."""

    at_ms: int
    store: StoreFacts | PlatformError
    health: Health | PlatformError | None = None
    strategies: list[Strategy] | PlatformError | None = None
    summaries: dict[str, Any] = field(default_factory=dict)
    prices: dict[str, Any] = field(default_factory=dict)
    positions: dict[str, Any] = field(default_factory=dict)
    retried: list[str] = field(default_factory=list)  # calls that needed one retry

    def account_errors(self) -> dict[str, PlatformError]:
        """Accounts whose summary call failed: unreachable, by account id."""
        return {a: r for a, r in self.summaries.items() if isinstance(r, PlatformError)}


def observe(manifest: Manifest, now_ms: int, tolerance_ms: int) -> Observed:
    """Read the store while the network calls run; never raise.

    Only the price calls wait for the store, and only for its live runs (they say which
    instruments each account trades): the store's reads and every other call overlap, so
    the probe costs its slowest part, not the sum of them.
    """
    # One client per service, shared by its jobs (httpx clients are thread-safe, and
    # building one per call costs more than the call on a local platform).
    skew_s = manifest.thresholds.clock_skew_max_s
    with ExitStack() as stack, ThreadPoolExecutor(max_workers=32) as pool:
        live_job = pool.submit(guarded, partial(_live_runs, manifest, now_ms))
        store_job = pool.submit(
            guarded, lambda: _store_facts(manifest, now_ms, tolerance_ms, pool, live_job)
        )
        control_plane = stack.enter_context(ControlPlane.of(manifest))
        clients = {
            b.name: stack.enter_context(OandaBroker.from_config(b, clock_skew_s=skew_s))
            for b in manifest.brokers
        }
        jobs: dict[tuple[str, str], Callable[[], object]] = {
            ("health", ""): control_plane.health,
            ("strategies", ""): control_plane.strategies,
        }
        for broker, account in manifest.accounts:
            client = clients[broker.name]
            jobs[("summaries", account)] = partial(client.summary, account)
            jobs[("positions", account)] = partial(client.open_positions, account)
        futures = {key: pool.submit(guarded, job) for key, job in jobs.items()}
        live = live_job.result()
        traded: dict[str, set[str]] = {}
        if isinstance(live, list):
            for run in live:
                if run.account_id and run.instrument:
                    traded.setdefault(run.account_id, set()).add(run.instrument)
        for broker, account in manifest.accounts:
            instruments = sorted(traded.get(account, FALLBACK_INSTRUMENTS))
            call = partial(clients[broker.name].pricing, account, instruments)
            futures[("prices", account)] = pool.submit(guarded, call)
        observed = Observed(at_ms=now_ms, store=store_job.result())
        for (part, account), future in futures.items():
            result = future.result()
            if account:
                getattr(observed, part)[account] = result
            else:
                setattr(observed, part, result)
    # Calls that answered only on a second try: the report says so, never silently green.
    observed.retried = [f"control plane: {r}" for r in control_plane.retried] + [
        f"broker {name} {r}" for name, client in clients.items() for r in client.retried
    ]
    return observed


def guarded(job: Callable[[], object]) -> Any:
    """Run one observation; a PlatformError (or a bug) becomes the result, not a crash."""
    try:
        return job()
    except PlatformError as exc:
        return exc
    except Exception as exc:  # a bug in a connector must still not be an INTERNALERROR
        return PlatformError(f"unexpected {type(exc).__name__} while probing: {exc}")


def _live_runs(manifest: Manifest, now_ms: int) -> list[Run]:
    """The live runs, on a connection of their own: the price calls wait for them."""
    with EventStore.of(manifest) as store:
        return store.live_runs(now_ms)


def _store_facts(
    manifest: Manifest,
    now_ms: int,
    tolerance_ms: int,
    pool: ThreadPoolExecutor,
    live_job: Future[list[Run] | PlatformError],
) -> StoreFacts:
    path = manifest.event_store.path
    # The slowest read (every fill's units) on a connection of its own, as the live runs
    # are: SQLite reads without holding the GIL, so it overlaps the others.
    with EventStore.of(manifest) as main, EventStore.of(manifest) as fills:
        positions = pool.submit(fills.net_positions)
        try:
            columns, indexes = main.schema()
            try:
                newest: tuple[int, int] | StoreValueError | None = main.newest_event()
            except StoreValueError as exc:  # one bad row: the writes check names it
                newest = exc
            journal_mode = main.journal_mode()
            regressions = main.ts_regressions(SEQUENCE_LOOKBACK, tolerance_ms)
            live = live_job.result()
            if isinstance(live, PlatformError):
                raise live
            return StoreFacts(
                journal_mode=journal_mode,
                newest=newest,
                live_runs=live,
                columns=columns,
                indexes=indexes,
                regressions=regressions,
                net_positions=positions.result(),
                wal_bytes=_size(f"{path}-wal"),
                bad_timestamps=main.bad_timestamps(),
            )
        finally:
            wait([positions])  # before its connection closes


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
