"""Layer 1, the platform: is the software running? One function per check, as the manual says it.

Each judgment takes one observation of the platform and returns its findings, or
Unjudged when what it needs could not be seen (another layer-1 check reports why).
"""

from __future__ import annotations

from datetime import UTC, datetime

from tradeops._record import frozen_record
from tradeops.config import Manifest
from tradeops.connectors.control_plane import Health
from tradeops.connectors.errors import PlatformError
from tradeops.findings import Finding, Where
from tradeops.market import fx_market_open
from tradeops.probe._observe import Observed, StoreFacts

# The contract's schema: columns and the three indexes the suite's queries rely on.
CONTRACT_COLUMNS = {
    "seq": "INTEGER",
    "ts": "INTEGER",
    "type": "TEXT",
    "run_id": "TEXT",
    "run_seq": "INTEGER",
    "strategy_id": "TEXT",
    "instrument": "TEXT",
    "account_id": "TEXT",
    "payload": "TEXT",
}
CONTRACT_INDEXES = {
    "events_ts": ["ts"],
    "events_type_ts": ["type", "ts"],
    "events_run": ["run_id", "run_seq"],
}


@frozen_record
class Unjudged:
    """The check could not be judged; the reason names the check that is red instead."""

    reason: str


def control_plane_health(o: Observed, m: Manifest) -> list[Finding]:
    """The control plane answers /api/health with 200 "ok", within its latency budget."""
    if isinstance(o.health, PlatformError):
        return [Finding(f"control plane down: {o.health}", severity="P0")]
    found = []
    if not o.health.ok:
        found.append(Finding(f"control plane /api/health status is {o.health.status!r}, not 'ok'"))
    budget = m.thresholds.control_plane_latency_ms
    if o.health.latency_ms > budget:
        found.append(
            Finding(
                f"/api/health took {o.health.latency_ms:.0f} ms (budget {budget:.0f} ms)",
                severity="P2",
            )
        )
    return found


def broker_reachability(o: Observed, m: Manifest) -> list[Finding]:
    """Pre-flight 2: /api/health is 200 "ok", and OANDA answers for every account."""
    found: list[Finding] = []
    if isinstance(o.health, PlatformError):
        found.append(Finding(f"control plane down: {o.health}", severity="P0"))
    elif not o.health.ok:
        found.append(Finding(f"control plane /api/health status is {o.health.status!r}, not 'ok'"))
    else:
        connected = {b.account_id: b.connected for b in o.health.brokers}
        for _, account in m.accounts:
            if not connected.get(account, False):
                state = "missing from" if account not in connected else "disconnected in"
                found.append(
                    Finding(
                        f"the platform's broker connection is {state} /api/health",
                        Where(account=account),
                    )
                )
    errors = o.account_errors()
    unreachable = [Finding(str(error), Where(account=account)) for account, error in errors.items()]
    if unreachable and len(errors) == len(o.summaries):
        # Every account unreachable: all brokers down is P0 (capital at risk).
        unreachable = [Finding(f.what, f.where, "P0") for f in unreachable]
    return found + unreachable


def broker_prices(o: Observed, m: Manifest) -> list[Finding] | Unjudged:
    """Prices fresh and tradeable while the FX market is open; the API answers even when closed."""
    unreachable = o.account_errors()
    if unreachable and len(unreachable) == len(o.summaries):
        return Unjudged("unreliable: no account reachable (broker_reachability)")
    now = datetime.fromtimestamp(o.at_ms / 1000, UTC)
    market_open = fx_market_open(now)
    limit = m.thresholds.price_stale_after_s
    found = []
    for account, prices in o.prices.items():
        if account in unreachable:
            continue
        if isinstance(prices, PlatformError):
            found.append(Finding(f"pricing failed: {prices}", Where(account=account)))
            continue
        for price in prices:
            where = Where(account=account, instrument=price.instrument)
            if not market_open:
                continue
            age_s = (now - price.time).total_seconds()
            if age_s > limit:
                found.append(
                    Finding(
                        f"price is {age_s:.0f} s old while the market is open "
                        f"(limit {limit:.0f} s)",
                        where,
                    )
                )
            if not price.tradeable:
                found.append(Finding("price not tradeable while the market is open", where))
    return found


def event_store_writes(o: Observed, m: Manifest) -> list[Finding]:
    """The store is readable and, while runs are live, its newest event is recent."""
    if isinstance(o.store, PlatformError):
        return [Finding(f"event store unreadable: {o.store}", severity="P0")]
    if isinstance(o.store.newest, PlatformError):
        newest = o.store.newest
        return [Finding(f"the newest event's time is unusable: {newest}", Where(seq=newest.seq))]
    if not o.store.live_runs or o.store.newest is None:
        return []
    seq, ts = o.store.newest
    age_s = (o.at_ms - ts) / 1000
    limit = m.thresholds.store_write_stale_after_s
    if age_s <= limit:
        return []
    return [
        Finding(
            f"no event written for {age_s:.0f} s while {len(o.store.live_runs)} runs are "
            f"live (limit {limit:.0f} s)",
            Where(seq=seq),
        )
    ]


def wal_mode(o: Observed, m: Manifest) -> list[Finding] | Unjudged:
    """Pre-flight 3: the store file is in WAL mode and the platform agrees."""
    store = _store(o)
    if isinstance(store, Unjudged):
        return store
    path = m.event_store.path
    found = []
    if store.journal_mode != "wal":
        found.append(
            Finding(
                f"event store {path} is in {store.journal_mode!r} journal mode, "
                "not 'wal': readers block the platform's writer"
            )
        )
    if isinstance(o.health, Health) and o.health.journal_mode not in ("", store.journal_mode):
        found.append(
            Finding(
                f"the platform reports journal_mode {o.health.journal_mode!r} but "
                f"the store file {path} is {store.journal_mode!r}"
            )
        )
    return found


def event_store_schema(o: Observed, m: Manifest) -> list[Finding] | Unjudged:
    """The `events` table has the contract's columns and indexes."""
    store = _store(o)
    if isinstance(store, Unjudged):
        return store
    found = []
    for column, kind in CONTRACT_COLUMNS.items():
        actual = store.columns.get(column)
        if actual is None:
            found.append(Finding(f"column events.{column} is missing", severity="P1"))
        elif actual.upper() != kind:
            found.append(Finding(f"column events.{column} is {actual}, the contract says {kind}"))
    have = {tuple(cols) for cols in store.indexes.values()}
    for name, cols in CONTRACT_INDEXES.items():
        if tuple(cols) not in have:
            found.append(
                Finding(
                    f"index {name} ({', '.join(cols)}) is missing: time-window "
                    "queries scan the whole table"
                )
            )
    return found


def event_store_sequence(o: Observed, m: Manifest) -> list[Finding] | Unjudged:
    """Events are appended in time order: ts never goes back against seq, and every ts
    is a believable time (epoch ms, not before 2000, not beyond our clock plus the skew)."""
    store = _store(o)
    if isinstance(store, Unjudged):
        return store
    unusable = [
        Finding(f"{kind}: {problem}", Where(seq=seq)) for seq, kind, problem in store.bad_timestamps
    ]
    return unusable + [
        Finding(
            f"ts goes back {(prev - ts) / 1000:.1f} s against seq order (previous event at {prev})",
            Where(seq=seq),
        )
        for seq, ts, prev in store.regressions[:20]
    ]


def wal_growth(o: Observed, m: Manifest) -> list[Finding] | Unjudged:
    """The WAL file is not growing without bound (checkpoints are completing)."""
    store = _store(o)
    if isinstance(store, Unjudged):
        return store
    size_mb = store.wal_bytes / 1_000_000
    limit = m.thresholds.wal_max_mb
    if size_mb <= limit:
        return []
    return [
        Finding(
            f"the WAL file is {size_mb:.1f} MB (limit {limit:.0f} MB): checkpoints are "
            "not completing; a long-running reader may be holding a snapshot"
        )
    ]


def clock_skew(o: Observed, m: Manifest) -> list[Finding] | Unjudged:
    """The platform's clock agrees with ours within the limit."""
    if not isinstance(o.health, Health):
        return Unjudged("unreliable: control plane down (control_plane_health)")
    skew_s = (o.health.time.timestamp() * 1000 - o.at_ms) / 1000
    limit = m.thresholds.clock_skew_max_s
    # The health answer is built after our clock reading: allow for its latency.
    allowance = limit + o.health.latency_ms / 1000
    if abs(skew_s) <= allowance:
        return []
    direction = "ahead of" if skew_s > 0 else "behind"
    return [
        Finding(
            f"the platform's clock is {abs(skew_s):.1f} s {direction} ours (limit {limit:.0f} s)"
        )
    ]


def _store(o: Observed) -> StoreFacts | Unjudged:
    if isinstance(o.store, PlatformError):
        return Unjudged("unreliable: event store unreadable (event_store_writes)")
    return o.store


# Each layer-1 check's own severity (its test carries the same marker; a test keeps them
# in step): what a red check counts as when a run did not select its test.
SEVERITY = {
    "control_plane_health": "P1",
    "broker_reachability": "P1",
    "broker_prices": "P1",
    "event_store_writes": "P1",
    "wal_mode": "P1",
    "event_store_schema": "P2",
    "event_store_sequence": "P2",
    "wal_growth": "P2",
    "clock_skew": "P2",
}

CHECKS = {
    "control_plane_health": control_plane_health,
    "broker_reachability": broker_reachability,
    "broker_prices": broker_prices,
    "event_store_writes": event_store_writes,
    "wal_mode": wal_mode,
    "event_store_schema": event_store_schema,
    "event_store_sequence": event_store_sequence,
    "wal_growth": wal_growth,
    "clock_skew": clock_skew,
}
