"""Platform-scoped events: account snapshots, reconciliations, broker drops, alerts, gates."""

from __future__ import annotations

import random

from tradeops.sandbox.scenarios import ACCOUNTS
from tradeops.sandbox.store._books import dumps
from tradeops.sandbox.store._runs import SNAPSHOT, Ev, Stream
from tradeops.sandbox.store.model import HOUR_MS, SESSION_OPEN_MS, Strategy, day_key

_CLEAN = dumps({"divergent": False, "instruments": []})
_DROP_REASONS = ("stream timeout", "connection reset by peer", "TLS handshake timeout")


def hourly(first: int, last: int) -> list[Ev]:
    """An ACCOUNT_SNAPSHOT and a clean RECONCILIATION per account each hour in [first, last]."""
    evs = []
    ts = first
    while ts <= last:
        for i, account in enumerate(ACCOUNTS):
            scope = (None, None, account)
            at = ts + i * 1_000 + 500
            evs.append(Ev(at, "ACCOUNT_SNAPSHOT", SNAPSHOT, scope=scope))
            evs.append(Ev(at + 2_000, "RECONCILIATION", payload=_CLEAN, scope=scope))
        ts += HOUR_MS
    return evs


def late_reconciliations(ts: int) -> list[tuple]:
    """Store rows of a clean RECONCILIATION per account stamped at ts (the ts_backwards
    fault: a reconciler that flushed its results ten minutes late)."""
    return [
        (ts + i * 1_000 + 500, "RECONCILIATION", None, None, None, None, account, _CLEAN)
        for i, account in enumerate(ACCOUNTS)
    ]


def alert(ts: int, s: Strategy, alert_id: str, resolved_ts: int | None) -> list[Ev]:
    """A RECONCILIATION_ALERT, resolved at resolved_ts unless that is None."""
    scope = (s.strategy_id, None, s.account)
    payload = dumps({"alert_id": alert_id})
    evs = [Ev(ts, "RECONCILIATION_ALERT", payload=payload, scope=scope)]
    if resolved_ts is not None:
        evs.append(Ev(resolved_ts, "RECONCILIATION_ALERT_RESOLVED", payload=payload, scope=scope))
    return evs


def gate(ts: int, s: Strategy, gate_id: str, decided_ts: int | None) -> list[Ev]:
    """A PROMOTE_REQUESTED, declined at decided_ts unless that is None (pending)."""
    scope = (s.strategy_id, None, None)
    evs = [
        Ev(ts, "PROMOTE_REQUESTED", payload=dumps({"gate_id": gate_id, "to": "live"}), scope=scope)
    ]
    if decided_ts is not None:
        decision = {
            "gate_id": gate_id,
            "approved": False,
            "reason": "paper record under 60 sessions",
        }
        evs.append(Ev(decided_ts, "PROMOTE_DECIDED", payload=dumps(decision), scope=scope))
    return evs


def platform_day(rng: random.Random, day: int, running: list[Strategy], session_ms: int) -> Stream:
    """One history day's platform events; every disconnect, alert and gate is closed."""
    first = day + SESSION_OPEN_MS
    last = first + HOUR_MS + session_ms
    evs = hourly(first, last)
    key = day_key(day)
    if rng.random() < 0.5:  # a few broker drops a week, back within 2-20 s
        scope = (None, None, rng.choice(ACCOUNTS))
        ts = rng.randint(first + 60_000, last - 60_000)
        reason = dumps({"reason": rng.choice(_DROP_REASONS)})
        evs.append(Ev(ts, "BROKER_DISCONNECTED", payload=reason, scope=scope))
        evs.append(Ev(ts + rng.randint(2_000, 20_000), "BROKER_RECONNECTED", scope=scope))
    if running and rng.random() < 0.3:
        ts = rng.randint(first + 60_000, last - 1_000_000)
        evs += alert(ts, rng.choice(running), f"ra-{key}-1", ts + rng.randint(60_000, 900_000))
    if running and rng.random() < 0.3:
        ts = rng.randint(first + 60_000, last - 60_000)
        evs += gate(ts, rng.choice(running), f"g-{key}-1", ts + rng.randint(2_000, 10_000))
    return Stream(None, None, [], evs)
