"""The eight SLIs of the operations model: what each measures, and its measurement.

Seven are measured in the event store (one SQL aggregate each, over the indexed time
window); control plane availability comes from the suite's own probe history
(`tradeops.slo.history`). Every measurement takes "now" explicitly, so `--ops-as-of`
evaluates the past exactly as it was: rows after now are never read.
"""

from __future__ import annotations

import json
from dataclasses import field

from tradeops._record import frozen_record
from tradeops.config import SloConfig
from tradeops.connectors.errors import PlatformError
from tradeops.connectors.event_store import EventStore
from tradeops.slo import _sli_sql
from tradeops.slo._heartbeat_sql import heartbeat_delivery_sql
from tradeops.slo._sql import Window, aggregate, counts_of
from tradeops.slo.budget import HOUR_MS, Counts

# A fill younger than this is not judged yet: the platform persists it just after.
PERSIST_GRACE_MS = 60_000
# ORDER_FILLED rows are matched from this long before the window (clock skew).
PERSIST_SLACK_MS = 24 * HOUR_MS
# At most this many payload problems are named per SLI; the rest are counted.
MAX_PROBLEMS = 5


@frozen_record
class Sli:
    """One service level indicator: names, severity, runbook and what it is measured from."""

    name: str
    title: str
    severity: str
    runbook: str
    source: str
    reads: tuple[str, ...] = ()  # event types whose payload fields it reads


SLIS: dict[str, Sli] = {
    s.name: s
    for s in (
        Sli(
            "trade_persistence",
            "trade persistence",
            "P1",
            "slo-trade-persistence",
            "broker ORDER_FILL transactions vs ORDER_FILLED",
            ("ORDER_FILLED",),
        ),
        Sli(
            "broker_reconnection",
            "broker reconnection time",
            "P2",
            "slo-broker-reconnection",
            "BROKER_DISCONNECTED/RECONNECTED pairs",
        ),
        Sli(
            "run_success",
            "run success",
            "P2",
            "slo-run-success",
            "RUN_ENDED status",
            ("RUN_ENDED",),
        ),
        Sli(
            "control_plane_availability",
            "control plane availability",
            "P2",
            "slo-control-plane-availability",
            "the suite's own probe history",
        ),
        Sli(
            "reconciliation_divergence",
            "reconciliation divergence",
            "P1",
            "slo-reconciliation-divergence",
            "RECONCILIATION divergent",
            ("RECONCILIATION",),
        ),
        Sli(
            "heartbeat_delivery",
            "heartbeat delivery",
            "P2",
            "slo-heartbeat-delivery",
            "HEARTBEAT vs run duration / interval",
            ("RUN_STARTED", "RUN_ENDED"),
        ),
        Sli(
            "stale_detection_latency",
            "stale detection latency",
            "P2",
            "slo-stale-detection-latency",
            "STALE_DETECTED vs last heartbeat + threshold",
            ("STALE_DETECTED", "RUN_STARTED"),
        ),
        Sli(
            "promote_gate_latency",
            "promote gate latency",
            "P3",
            "slo-promote-gate-latency",
            "PROMOTE_REQUESTED/DECIDED",
            ("PROMOTE_REQUESTED", "PROMOTE_DECIDED"),
        ),
    )
}


@frozen_record
class Measurement:
    """An SLI counted over its SLO window and every alert window; errors if it could not be."""

    window: Counts = field(default_factory=Counts)
    alert_windows: dict[str, Counts] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @classmethod
    def failed(cls, error: str) -> Measurement:
        """A measurement that could not be made, and why."""
        return cls(errors=(error,))


@frozen_record
class BrokerFill:
    """One ORDER_FILL transaction as the broker reports it."""

    account: str
    id: str
    time_ms: int


@frozen_record
class BrokerFills:
    """The broker fills of every configured account, or why some could not be read."""

    fills: tuple[BrokerFill, ...] = ()
    errors: tuple[str, ...] = ()

    def to_param(self) -> str:
        """The fills as the JSON object the persistence SQL reads with json_each: a member
        per fill (written by hand: a dict would merge two fills of one key), key -> time."""
        members = (f"{json.dumps(f'{len(f.account)}:{f.account}{f.id}')}:{int(f.time_ms)}"
                   for f in self.fills)  # fmt: skip
        return "{" + ",".join(members) + "}"


_STORE_SQL = {
    "run_success": _sli_sql.RUN_SUCCESS,
    "reconciliation_divergence": _sli_sql.RECONCILIATION_DIVERGENCE,
    "stale_detection_latency": _sli_sql.STALE_DETECTION_LATENCY,
    "promote_gate_latency": _sli_sql.PROMOTE_GATE_LATENCY,
    "broker_reconnection": _sli_sql.BROKER_RECONNECTION,
    "trade_persistence": _sli_sql.TRADE_PERSISTENCE,
}


def store_query(name: str) -> str:
    """The one SQL statement that measures a store SLI (counts for every window)."""
    if name == "heartbeat_delivery":
        return heartbeat_delivery_sql()
    return aggregate(_STORE_SQL[name])


def measure(
    name: str,
    store: EventStore,
    config: SloConfig,
    now_ms: int,
    *,
    stale_after_heartbeats: float = 3.0,
    fills: BrokerFills | None = None,
) -> Measurement:
    """Measure one store SLI as of `now_ms`; a store or broker failure is an error, not a raise."""
    if name not in _STORE_SQL and name != "heartbeat_delivery":
        raise KeyError(f"{name!r} is not measured in the event store")
    window = Window(now_ms, config.window_days)
    extra: dict[str, object] = {"thr": round((config.threshold_s or 0) * 1000)}
    if name == "stale_detection_latency":
        extra["factor"] = stale_after_heartbeats
    if name == "trade_persistence":
        if fills is None:
            return Measurement.failed("broker fills were not read")
        if fills.errors:
            return Measurement.failed("cannot read broker fills: " + "; ".join(fills.errors))
        extra.update(fills=fills.to_param(), slack=PERSIST_SLACK_MS, grace=PERSIST_GRACE_MS)
    try:
        (row,) = _rows(store, store_query(name), window.params(**extra))
        problems = _payload_problems(store, SLIS[name].reads, window)
    except PlatformError as exc:
        return Measurement.failed(str(exc))
    counted, alerts = counts_of(row)
    return Measurement(counted, alerts, notes=problems)


def _payload_problems(store: EventStore, types: tuple[str, ...], window: Window) -> tuple[str, ...]:
    """Malformed rows of the types an SLI reads, in its window, named by seq."""
    if not types:
        return ()
    found = store.payload_problems(list(types), since_ms=window.start_ms + 1)
    notes = [f"seq {p.seq} ({p.type}): {p.problem}" for p in found[:MAX_PROBLEMS]]
    if len(found) > MAX_PROBLEMS:
        notes.append(f"... and {len(found) - MAX_PROBLEMS} more malformed {'/'.join(types)} rows")
    return tuple(notes)


def _rows(store: EventStore, query: str, params: dict[str, object]) -> list[tuple]:
    """One short read-only statement on the store's own connection.

    EventStore has no public "run this aggregate" method; its `_rows` gives the
    read-only, query_only connection, the lock and the operator-worded errors, so the
    SLIs use it rather than opening a second connection with different rules.
    """
    return store._rows(query, params)
