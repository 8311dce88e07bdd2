"""Each SLO's error budget as of earlier instants: the report's "budget over the window".

`budget_history` measures every store SLI (and control-plane availability from the probe
history) as of POINTS instants spread over its own window, ending at `now_ms`, with the
same SQL the verdict uses; each point is `{"at": RFC 3339, "remaining": share or None}`
(None: too few events then, or not measurable). Trade persistence is left out: the
broker's fills are read for the current window only, so an earlier instant would count
trades whose fills were never fetched as missing.

Cost: up to POINTS evaluations of each SLI, bounded by `max_seconds` for them all: each
SLI is measured as of now first, and gets as many earlier points (at least one: the
window's start) as its share of the time allows at that speed. A large store gets a
coarser line, never a slower run. benchmarks/report_charts.py measures it. Pre-flight
evaluates no SLO and never pays it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from tradeops.config import Manifest
from tradeops.connectors.event_store import EventStore
from tradeops.slo.budget import DAY_MS
from tradeops.slo.history import ProbeHistory
from tradeops.slo.objectives import SLIS, Measurement, measure
from tradeops.slo.result import SloResult

POINTS = 12
MAX_SECONDS = 2.0  # for every SLI's series together
SKIPPED = ("trade_persistence",)


def budget_history(
    manifest: Manifest,
    now_ms: int,
    *,
    store: EventStore,
    history: ProbeHistory | None,
    points: int = POINTS,
    max_seconds: float = MAX_SECONDS,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[dict]]:
    """SLO name -> the budget remaining at up to `points` instants, oldest first."""
    names = [
        n
        for n in manifest.slo
        if n not in SKIPPED and (n != "control_plane_availability" or history is not None)
    ]
    share = max_seconds / max(len(names), 1)
    out: dict[str, list[dict]] = {}
    for name in names:
        config = manifest.slo[name]
        begin = clock()
        last = _point(manifest, name, now_ms, store, history)
        took = clock() - begin
        count = max(2, min(points, int(share / took) if took > 0 else points))
        span = round(config.window_days * DAY_MS)
        earlier = [now_ms - span * (count - 1 - i) // (count - 1) for i in range(count - 1)]
        out[name] = [*(_point(manifest, name, at, store, history) for at in earlier), last]
    return out


def _point(
    manifest: Manifest, name: str, at: int, store: EventStore, history: ProbeHistory | None
) -> dict:
    """The SLO as of `at`: {"at", "remaining"} (None: not enough events, or unmeasurable)."""
    config = manifest.slo[name]
    if name == "control_plane_availability":
        measured = history.measure(config, at) if history else Measurement()
    else:
        factor = manifest.thresholds.stale_after_heartbeats
        measured = measure(name, store, config, at, stale_after_heartbeats=factor)
    sli = SLIS[name]
    result = SloResult(
        name,
        sli.title,
        sli.severity,
        config,
        at,
        measured.window,
        measured.alert_windows,
        measured.errors,
        measured.notes,
    )
    judged = result.valid and result.budget.sufficient
    return {"at": _utc(at), "remaining": result.budget.remaining if judged else None}


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
