"""Each SLO's error budget as of earlier instants: the report's "budget over the window".

`budget_history` measures every store SLI (and control-plane availability from the probe
history) as of POINTS instants spread over its own window, ending at `now_ms`, with the
same SQL the verdict uses; each point is `{"at": RFC 3339, "remaining": share or None}`
(None: too few events then, or not measurable). Trade persistence is left out: the
broker's fills are read for the current window only, so an earlier instant would count
trades whose fills were never fetched as missing.

Cost: up to POINTS - 1 evaluations of each SLI, bounded by `max_seconds` for them all.
The newest point is the run's own result (`current`, with the time its evaluation took,
`took_s`): each SLI then gets as many earlier points as its share of the time allows at
that speed, and none when one more would not fit (the report draws the budget now). A
large store gets a coarser line, never a slower run: at 300 strategies, heartbeat
delivery takes seconds per point, and two more of them (now again, and the window's
start) had made `pytest slo` 2.8x slower. Without `current`, each SLI is measured as of
now first. benchmarks/report_charts.py measures it. Pre-flight evaluates no SLO and
never pays it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
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
    current: Mapping[str, SloResult] | None = None,
    took_s: Mapping[str, float] | None = None,
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
        if current is not None and name in current and took_s is not None and name in took_s:
            last, took = _of(current[name]), took_s[name]
        else:
            begin = clock()
            last = _point(manifest, name, now_ms, store, history)
            took = clock() - begin
        more = min(points - 1, int(share / took) if took > 0 else points - 1)
        if more < 1:  # not one earlier point fits in this SLI's share of the time
            out[name] = [last]
            continue
        count = more + 1
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
    return _of(result)


def _of(result: SloResult) -> dict:
    """One point: {"at", "remaining"} (None: not enough events, or unmeasurable)."""
    judged = result.valid and result.budget.sufficient
    return {"at": _utc(result.now_ms), "remaining": result.budget.remaining if judged else None}


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
