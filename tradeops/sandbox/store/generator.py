"""Builds the sandbox platform's data: events.sqlite, ledger.json and strategies.json.

The model (docs/architecture.md, "The store the generator builds"): 9 pairs, 3 accounts,
strategy i trades pair i % 9 on account i % 3, every tenth strategy paused. History is one
run per strategy per weekday among the `days` calendar days before today (UTC), written in
one bulk load; today's live session (every scheduled strategy running, heartbeats up to
now, open trades) is appended after it. The history depends only on (params, history
faults, UTC day), so it is cached and a sandbox start only copies it and adds the session.

Store payload money and prices are JSON numbers; the ledger's are OANDA decimal strings.
The backtest `max_drawdown` is the largest fall of (initial balance + the strategy's
cumulative realised P&L) from its running peak, as a fraction of that peak.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tradeops.sandbox.scenarios import HISTORY_FAULTS, STORE_FAULTS
from tradeops.sandbox.store._history import build_history
from tradeops.sandbox.store._live import build_live
from tradeops.sandbox.store._sqlite import remove_store
from tradeops.sandbox.store.model import DAY_MS, StoreParams, day_key

# Bump whenever the generated data changes, so no cache entry outlives its format.
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class BuildResult:
    """What was built, and where the faults are (`notes`)."""

    store: Path
    ledger: Path
    strategies: Path
    events: int
    live_runs: list[dict[str, Any]]
    notes: dict[str, Any]


def build_platform_data(
    directory: Path,
    params: StoreParams,
    faults: frozenset[str],
    now_ms: int,
    cache_dir: Path | None = None,
) -> BuildResult:
    """Write the sandbox's store, ledger and strategies into directory.

    Only the faults in scenarios.STORE_FAULTS are applied; the others are ignored.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    store_faults = frozenset(faults) & STORE_FAULTS
    today = now_ms // DAY_MS * DAY_MS
    history_faults = store_faults & HISTORY_FAULTS
    if cache_dir is None:
        state = build_history(directory, params, history_faults, today)
        history_ledger = directory / "ledger.json"
    else:
        entry = history_entry(Path(cache_dir), params, history_faults, today)
        remove_store(directory / "events.sqlite")
        shutil.copyfile(entry / "events.sqlite", directory / "events.sqlite")
        shutil.copyfile(entry / "strategies.json", directory / "strategies.json")
        state = json.loads((entry / "state.json").read_text())
        history_ledger = entry / "ledger.json"
    live_runs, live_notes, written = build_live(
        directory, params, store_faults, now_ms, state, history_ledger
    )
    notes = {
        **state["notes"],
        **live_notes,
        "now_ms": now_ms,
        "previous_session": state["previous_session"],
        "history_events": state["events"],
    }
    return BuildResult(
        store=directory / "events.sqlite",
        ledger=directory / "ledger.json",
        strategies=directory / "strategies.json",
        events=state["events"] + written,
        live_runs=live_runs,
        notes=notes,
    )


def cache_key(params: StoreParams, history_faults: frozenset[str], today_ms: int) -> str:
    """The name of the cache entry holding this history."""
    history_params = {k: v for k, v in asdict(params).items() if k != "live_minutes"}
    identity = {
        "version": GENERATOR_VERSION,
        "params": history_params,
        "faults": sorted(history_faults),
        "day": today_ms,
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"{day_key(today_ms)}-{digest[:20]}"


def history_entry(
    cache_dir: Path, params: StoreParams, history_faults: frozenset[str], today_ms: int
) -> Path:
    """The cached history directory, built first if missing.

    Entries appear by renaming a finished directory, so a reader never sees half of one;
    a lock file makes a second concurrent builder wait for the first instead of
    building the same history twice.
    """
    name = cache_key(params, history_faults, today_ms)
    final = cache_dir / name
    if final.is_dir():
        return final
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if final.is_dir():
            return final
        tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=cache_dir))
        try:
            state = build_history(tmp, params, history_faults, today_ms)
            (tmp / "state.json").write_text(json.dumps(state))
            os.rename(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if not final.is_dir():
                raise
    _prune(cache_dir, today_ms)
    return final


def _prune(cache_dir: Path, today_ms: int) -> None:
    """Drop entries (and builds left by killed builders) older than yesterday."""
    oldest = day_key(today_ms - DAY_MS)  # a sandbox started just before midnight keeps its
    for path in cache_dir.iterdir():
        stamp = path.name.lstrip(".")[:8]
        if stamp.isdigit() and stamp < oldest:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def estimate_events(params: StoreParams) -> int:
    """Roughly how many events a build with these params writes (for sizing benchmarks)."""
    weekdays = params.days * 5 / 7
    scheduled = params.strategies - params.strategies // 10
    paused_days = max(0.0, (params.days - 7) * 5 / 7)
    runs = weekdays * scheduled + paused_days * (params.strategies - scheduled)
    beats = params.session_hours * 3600 / params.heartbeat_interval_s
    per_run = beats + 4 + 9 * 5  # start, end, ~5 trades of 9 events; platform events aside
    live = scheduled * (params.live_minutes * 60 / params.heartbeat_interval_s + 12)
    return int(runs * per_run + live)
