"""The availability SLO counts the run's own probe, however long its commit waits.

The probe's entry in the suite's history is written on a thread of its own (its fsync
must not hold up the run). Whoever reads the history waits for it: the SLO evaluation in
one process, and the controller before any check is sent to an xdist worker. Here
another writer holds the history's write lock for a while, so the entry lands well after
the SLOs would otherwise have been read.
"""

from __future__ import annotations

import sqlite3
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.suite_runner import REPO, run_suite
from tradeops.sandbox import Sandbox, StoreParams
from tradeops.slo.history import SCHEMA

HELD_S = 1.5  # the history's busy timeout is 5 s: the entry waits, then lands


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox("healthy", params=StoreParams(days=3), cache_dir=REPO / ".cache-tests") as box:
        yield box


def held_history(path: Path) -> tuple[int, threading.Timer]:
    """The probes already in the history; its write lock taken, released in HELD_S."""
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.executescript(SCHEMA)
    before = writer.execute("SELECT COUNT(*) FROM probes").fetchone()[0]
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(HELD_S, lambda: (writer.rollback(), writer.close()))
    release.start()
    return before, release


@pytest.mark.slow
@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["one process", "xdist"])
def test_availability_counts_this_runs_probe_though_its_commit_waits(tmp_path, sandbox, workers):
    assert sandbox.manifest_path is not None
    manifest = tomllib.loads(sandbox.manifest_path.read_text())
    before, release = held_history(Path(manifest["reports"]["history_db"]))
    try:
        run = run_suite(
            tmp_path,
            "-k",
            "availability",
            f"--ops-config={sandbox.manifest_path}",
            f"--ops-reports-dir={tmp_path / 'trail'}",
            *workers,
            env=sandbox.environ,
            paths=("slo",),
        )
    finally:
        release.join()
    assert run.summary is not None, run.output[-3000:]
    availability = {s["name"]: s for s in run.summary["slo"]}["control_plane_availability"]
    assert availability["eligible"] == before + 1, run.output[-3000:]
