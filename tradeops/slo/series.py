"""Each SLO's error budget as of earlier instants: the report's "budget over the window".

`budget_history` measures every store SLI (and control-plane availability from the probe
history) as of POINTS instants spread over its own window, ending at `now_ms`, with the
same SQL the verdict uses; each point is `{"at": RFC 3339, "remaining": share or None}`
(None: too few events then, or not measurable). Trade persistence is left out: the
broker's fills are read for the current window only, so an earlier instant would count
trades whose fills were never fetched as missing.

Cost: POINTS evaluations of each SLI (benchmarks/report_charts.py measures it; the
report's docs quote it). Pre-flight evaluates no SLO and never pays it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tradeops.config import Manifest
from tradeops.connectors.event_store import EventStore
from tradeops.slo.budget import DAY_MS
from tradeops.slo.history import ProbeHistory
from tradeops.slo.objectives import SLIS, Measurement, measure
from tradeops.slo.result import SloResult

POINTS = 12
SKIPPED = ("trade_persistence",)


def budget_history(
    manifest: Manifest,
    now_ms: int,
    *,
    store: EventStore,
    history: ProbeHistory | None,
    points: int = POINTS,
) -> dict[str, list[dict]]:
    """SLO name -> the budget remaining at `points` instants, oldest first."""
    out: dict[str, list[dict]] = {}
    for name, config in manifest.slo.items():
        if name in SKIPPED or (name == "control_plane_availability" and history is None):
            continue
        span = round(config.window_days * DAY_MS)
        series = []
        for i in range(points):
            at = now_ms - span * (points - 1 - i) // max(points - 1, 1)
            if name == "control_plane_availability":
                measured = history.measure(config, at) if history else Measurement()
            else:
                measured = measure(
                    name,
                    store,
                    config,
                    at,
                    stale_after_heartbeats=manifest.thresholds.stale_after_heartbeats,
                )
            result = SloResult(
                name,
                SLIS[name].title,
                SLIS[name].severity,
                config,
                at,
                measured.window,
                measured.alert_windows,
                measured.errors,
                measured.notes,
            )
            b = result.budget
            judged = result.valid and b.sufficient
            series.append({"at": _utc(at), "remaining": b.remaining if judged else None})
        out[name] = series
    return out


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
