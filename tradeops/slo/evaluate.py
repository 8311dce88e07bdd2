"""Evaluate every SLO of a manifest as of one instant, and the promote gate's decision.

`evaluate` reads (store, probe history, broker fills) and judges; `gate` turns the
results into findings: the gate fails when any budget is exhausted, a page-level burn
fires, or an SLI cannot be measured (it fails closed: an unproven platform is not
promoted); insufficient data blocks only when `[gate] insufficient_data_blocks` says so.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from tradeops._record import frozen_record
from tradeops.config import BrokerConfig, Manifest
from tradeops.connectors.errors import PlatformError
from tradeops.connectors.event_store import EventStore
from tradeops.connectors.oanda import OandaBroker
from tradeops.findings import Finding
from tradeops.slo.budget import DAY_MS, INSUFFICIENT
from tradeops.slo.history import ProbeHistory
from tradeops.slo.objectives import SLIS, BrokerFill, BrokerFills, Measurement, measure
from tradeops.slo.result import SloResult


def evaluate(
    manifest: Manifest,
    now_ms: int,
    *,
    store: EventStore,
    history: ProbeHistory | None,
    fills: BrokerFills | None,
    took_s: dict[str, float] | None = None,
) -> list[SloResult]:
    """Every SLO in the manifest, as of now_ms, in the operations model's order; `took_s`,
    when given, gets each SLI's time (the budget history sizes itself by it)."""
    results = []
    for name, config in manifest.slo.items():
        started = time.perf_counter()
        if name == "control_plane_availability":
            measured = (
                history.measure(config, now_ms)
                if history is not None
                else Measurement(notes=("no probe history configured",))
            )
        else:
            measured = measure(
                name,
                store,
                config,
                now_ms,
                stale_after_heartbeats=manifest.thresholds.stale_after_heartbeats,
                fills=fills,
            )
        sli = SLIS[name]
        results.append(
            SloResult(
                name,
                sli.title,
                sli.severity,
                config,
                now_ms,
                measured.window,
                measured.alert_windows,
                measured.errors,
                measured.notes,
            )
        )
        if took_s is not None:
            took_s[name] = time.perf_counter() - started
    return results


Evaluation = tuple[dict[str, SloResult], dict[str, float]]  # results by name, each one's time


def evaluate_platform(
    manifest: Manifest,
    now_ms: int,
    *,
    brokers: Mapping[str, OandaBroker],
    history: ProbeHistory | None,
    unreliable: Mapping[str, str],
) -> Evaluation:
    """Every SLO of the manifest as of now_ms, by name, and each one's time.

    On a store connection of its own, closed before it returns, so it may run on a thread
    beside the checks (whose connection is theirs); the broker clients are the caller's
    (httpx clients are thread-safe). The broker's fills are not read when trade
    persistence is unreliable: the probe already paid the broker's timeout once.
    """
    store = EventStore.of(manifest)
    try:
        if "trade_persistence" in unreliable:
            fills = BrokerFills(errors=(unreliable["trade_persistence"],))
        else:
            fills = fetch_fills(brokers, manifest, now_ms)
        took_s: dict[str, float] = {}
        results = evaluate(
            manifest, now_ms, store=store, history=history, fills=fills, took_s=took_s
        )
    finally:
        store.close()
    return {r.name: r for r in results}, took_s


def fetch_fills(brokers: Mapping[str, OandaBroker], manifest: Manifest, now_ms: int) -> BrokerFills:
    """Every configured account's ORDER_FILL transactions in the trade-persistence window.

    Accounts are read concurrently (bounded by the accounts configured), so a hung broker
    costs one timeout, not one per account; an account that fails makes the SLI
    unmeasurable (the error says which), never silently smaller.
    """
    days = manifest.slo["trade_persistence"].window_days
    since, until = _utc(now_ms - round(days * DAY_MS)), _utc(now_ms)

    def read(broker: BrokerConfig, account: str) -> list[BrokerFill] | str:
        try:
            return [
                BrokerFill(account, f.id, _ms(f.time))
                for f in brokers[broker.name].fills(account, since, until)
            ]
        except PlatformError as exc:
            return str(exc)

    accounts = manifest.accounts
    with ThreadPoolExecutor(max_workers=max(1, min(8, len(accounts)))) as pool:
        answers = list(pool.map(lambda pair: read(*pair), accounts))
    fills = [f for answer in answers if not isinstance(answer, str) for f in answer]
    errors = [answer for answer in answers if isinstance(answer, str)]
    return BrokerFills(tuple(fills), tuple(errors))


@frozen_record
class GateDecision:
    """The promote gate's answer: the findings that block it, and what it says anyway."""

    blocking: tuple[Finding, ...]
    notes: tuple[str, ...]
    blocked_by: tuple[str, ...] = ()  # each blocking SLO's headline

    @property
    def passed(self) -> bool:
        """No SLO blocks a promotion."""
        return not self.blocking


def gate(results: Iterable[SloResult], insufficient_data_blocks: bool = False) -> GateDecision:
    """Judge the results as the promote gate does: it opens only on evidence.

    Closed by an exhausted budget, a page-level burn, an SLI that cannot be measured, a
    `required = true` SLO with insufficient data, and by a run in which no SLI at all
    could be judged (a gate that opens on nothing proves nothing).
    """
    results = list(results)
    blocking: list[Finding] = []
    notes: list[str] = []
    blocked_by: list[str] = []
    for result in results:
        problem = result.problem()
        if result.blocks_gate(insufficient_data_blocks or result.config.required):
            blocking.append(Finding(problem or result.title, severity=result.severity))
            blocked_by.append(
                f"{result.headline()} (required)"
                if result.verdict == INSUFFICIENT and result.config.required
                else result.headline()
            )
        elif result.verdict == INSUFFICIENT:
            notes.append(f"{problem} (not blocking: [gate] insufficient_data_blocks = false)")
        elif problem:
            notes.append(problem)
    if not any(r.valid and r.verdict != INSUFFICIENT for r in results) and not blocking:
        why = "no SLI could be judged: every SLO has insufficient data or no SLO ran"
        blocking.append(Finding(why))
        blocked_by.append(why)
    return GateDecision(tuple(blocking), tuple(notes), tuple(blocked_by))


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _ms(moment: datetime) -> int:
    return round(moment.timestamp() * 1000)
