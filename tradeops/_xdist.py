"""The pytest-xdist hooks, registered only when xdist is installed.

The controller ships the session (manifest path, clock, layer-1 verdict) to each worker as
plain JSON, and sizes `-n auto` to the platform: workers only where they pay off.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tradeops._session import AUTO_NOTE, CHECK_DIRS, SESSION, WORKERINPUT_KEY
from tradeops.config import ManifestError, find_manifest, load_manifest
from tradeops.connectors.errors import PlatformError
from tradeops.connectors.event_store import EventStore
from tradeops.runfacts import KIND_SELECTED, RUN


def pytest_configure_node(node) -> None:
    # Plain JSON only: the workers rebuild the session from the manifest path.
    node.workerinput[WORKERINPUT_KEY] = node.config.stash[SESSION].to_workerinput()


# The controller collects nothing under xdist: the run's completeness comes from the
# workers, which all collect the same items.
def pytest_xdist_node_collection_finished(node, ids: list[str]) -> None:
    """How many check items the run set out to run (after -m/-k), from a worker's ids."""
    run = node.config.stash.get(RUN, None)
    if run is not None:
        checks = sum(1 for nodeid in ids if nodeid.split("/")[0] in CHECK_DIRS)
        run.items = max(run.items, checks)


def pytest_testnodedown(node, error) -> None:
    """How many checks the run's kind selects, counted by a worker before -k narrowed."""
    run = node.config.stash.get(RUN, None)
    output = getattr(node, "workeroutput", None) or {}
    if run is not None and KIND_SELECTED in output and run.kind_selected is None:
        run.kind_selected = output[KIND_SELECTED]


# -n auto: workers only where they pay off. Measured by benchmarks/scale.py on this
# 2-core machine (medians of 3, healthy sandbox, per-strategy facts read once, the SLOs
# read on a thread beside the checks): in-process against -n 2, 30 strategies 0.77 s vs
# 1.37 s, 300 strategies 3.24 s vs 5.54 s, 600 strategies 6.68 s vs 11.10 s. Each worker
# re-collects and re-reads every shared fact, and in one process the SLO thread already
# keeps the second core busy, so up to 600 (and by the trend well past it) in-process wins.
AUTO_WORKERS_FROM = 1000  # strategies
STRATEGIES_PER_WORKER = 100


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """-n auto: in-process below the size where workers repay their start-up."""
    strategies = _expected_strategies(config)
    if strategies is None:
        return None  # not an operational run we can size: xdist's own default
    cpus = os.cpu_count() or 1
    workers = 0
    if strategies >= AUTO_WORKERS_FROM:
        workers = min(cpus, max(2, strategies // STRATEGIES_PER_WORKER))
    config.stash[AUTO_NOTE] = (
        f"-n auto chose {workers or 'no'} workers for {strategies} strategies "
        f"(workers from {AUTO_WORKERS_FROM})"
    )
    return workers


def _expected_strategies(config: pytest.Config) -> int | None:
    if config.getoption("ops_sandbox"):
        from tradeops.sandbox import StoreParams

        return config.getoption("ops_sandbox_strategies") or StoreParams().strategies
    path = find_manifest(config.getoption("ops_config"), os.environ, Path.cwd())
    if path is None:
        return None
    try:
        manifest = load_manifest(path)
        with EventStore.from_config(manifest.event_store) as store:
            return store.active_strategies(int(time.time() * 1000) - 86_400_000)
    except (ManifestError, PlatformError):
        return 0  # the run will report why; a broken platform is judged fastest in-process
