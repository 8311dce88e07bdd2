"""The history-fault list cannot drift from what the history builder does.

The generator keys (and so caches) the history by the faults in
scenarios.HISTORY_FAULTS only: a store fault that changes a past day but is missing from
that list would silently vanish from every cached history. So the history builder itself
is asked, fault by fault, whether it writes anything different from a healthy history.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from functools import cache
from pathlib import Path

import pytest

from tradeops.sandbox.scenarios import HISTORY_FAULTS, SCENARIOS, STORE_FAULTS
from tradeops.sandbox.store._history import build_history
from tradeops.sandbox.store.model import DAY_MS, StoreParams

# Eight days reach every history fault's span (the last days, yesterday's run); one
# heartbeat a minute keeps the twenty builds quick.
PARAMS = StoreParams(days=8, strategies=9, heartbeat_interval_s=60)
TODAY_MS = 1_764_547_200_000 // DAY_MS * DAY_MS  # a fixed Monday: builds are comparable


def _fingerprint(directory: Path, faults: frozenset[str]) -> str:
    directory.mkdir(parents=True)
    state = build_history(directory, PARAMS, faults, TODAY_MS)
    digest = hashlib.sha256(json.dumps(state, sort_keys=True).encode())
    for name in ("ledger.json", "strategies.json"):
        digest.update((directory / name).read_bytes())
    con = sqlite3.connect(directory / "events.sqlite")
    try:
        for row in con.execute("SELECT * FROM events ORDER BY seq"):
            digest.update(repr(row).encode())
    finally:
        con.close()
    return digest.hexdigest()


@cache
def _history_of(faults: frozenset[str], root: str) -> str:
    return _fingerprint(Path(root) / ("-".join(sorted(faults)) or "healthy"), faults)


def _changes_history(fault: str, root: str) -> bool:
    return _history_of(frozenset({fault}), root) != _history_of(frozenset(), root)


def history_faults_left_out(listed: frozenset[str], root: Path) -> set[str]:
    """Store faults that change the history but are not in `listed`."""
    return {f for f in STORE_FAULTS - listed if _changes_history(f, str(root))}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("histories")


def test_every_fault_that_changes_the_history_is_in_the_history_fault_list(root: Path) -> None:
    assert history_faults_left_out(HISTORY_FAULTS, root) == set()


def test_every_listed_history_fault_really_changes_the_history(root: Path) -> None:
    assert {f for f in HISTORY_FAULTS if not _changes_history(f, str(root))} == set()


def test_a_scenario_whose_fault_is_left_out_of_the_list_is_caught(root: Path) -> None:
    left_out = next(iter(SCENARIOS["drawdown-breach"].faults))
    assert history_faults_left_out(HISTORY_FAULTS - {left_out}, root) == {left_out}
