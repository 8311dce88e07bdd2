"""What items 1, 4 and 5 read, asked for before the probe's verdict is awaited.

The three items are judged only when layer 1 is green, but what they read (the store's
runs, gaps, gates and alerts, the platform's control summary) does not depend on the
verdict. Asked for once collection has selected them, before the plugin waits for the
probe, the reads run on threads of their own (SQLite reads without the GIL, the control
plane answers from its own process) while the main thread waits and sets the run up; the
items find them done. Each read keeps its own outcome: an error surfaces in the item that
asks for it, as if the item had read it itself. Read-only, like every read of the suite.
"""

from __future__ import annotations

import pytest

from tradeops._later import InOrder, Later
from tradeops._session import SESSION
from tradeops.config import Manifest
from tradeops.connectors.control_plane import ControlPlane, Summary
from tradeops.connectors.event_store import (
    Alert,
    EventStore,
    Gap,
    Gate,
    PayloadProblem,
    Run,
    StaleDetection,
)

RUN_FIELDS = ["RUN_STARTED"]  # items 1 and 4 rely on RUN_STARTED's payload fields


class ChecklistReads:
    """The reads of items 1, 4 and 5, started at construction: the store's in turn on one
    connection (closed after the last), the control summary beside them."""

    def __init__(self, manifest: Manifest, now_ms: int) -> None:
        store = EventStore.of(manifest)

        def summary() -> Summary:
            with ControlPlane.of(manifest) as cp:
                return cp.summary()

        def live_ids() -> list[str]:
            return [run.run_id for run in self.unended_runs()[0]]

        self._summary = Later(summary, "tradeops-checklist-summary")
        store_reads = InOrder("tradeops-checklist-store")
        self._unended = store_reads.then(lambda: store.unended_runs(now_ms))
        self._run_problems = store_reads.then(lambda: store.payload_problems(RUN_FIELDS))
        self._gaps = store_reads.then(lambda: store.gaps(live_ids()))
        self._stale = store_reads.then(lambda: store.stale_detections(run_ids=live_ids()))
        self._gates = store_reads.then(store.pending_gates)
        self._alerts = store_reads.then(store.unresolved_alerts)
        store_reads.then(store.close)
        store_reads.start()

    def control_summary(self) -> Summary:
        """The platform's /api/summary."""
        return self._summary.get()

    def unended_runs(self) -> tuple[list[Run], list[Run]]:
        """(live, residual): the runs not ended, by scheduled end."""
        return self._unended.get()

    def run_problems(self) -> list[PayloadProblem]:
        """RUN_STARTED rows whose payload is not JSON or lacks or mistypes a field."""
        return self._run_problems.get()

    def live_gaps(self) -> list[Gap]:
        """The holes in the live runs' run_seq."""
        return self._gaps.get()

    def live_stale_detections(self) -> list[StaleDetection]:
        """The live runs' STALE_DETECTED events."""
        return self._stale.get()

    def pending_gates(self) -> list[Gate]:
        """Promote gates requested and never decided."""
        return self._gates.get()

    def unresolved_alerts(self) -> list[Alert]:
        """Reconciliation alerts raised and never resolved."""
        return self._alerts.get()


READS = pytest.StashKey[ChecklistReads]()


@pytest.hookimpl(trylast=True)  # after -m and -k deselected: only for items that will run
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ops = config.stash.get(SESSION, None)
    if ops is None or ops.manifest is None or config.option.collectonly:
        return
    if any("checklist_reads" in getattr(item, "fixturenames", ()) for item in items):
        config.stash[READS] = ChecklistReads(ops.manifest, ops.now_ms)


@pytest.fixture(scope="session")
def checklist_reads(pytestconfig: pytest.Config, manifest: Manifest, now_ms: int) -> ChecklistReads:
    """The checklist's reads: those asked for at collection, else asked for now."""
    reads = pytestconfig.stash.get(READS, None)
    return reads if reads is not None else ChecklistReads(manifest, now_ms)
