"""The sandbox: a small forex trading platform, built so the suite has something real to judge.

`Sandbox("stale-heartbeat").start()` builds an event store (a month of history and
today's live session), starts the platform's processes on 127.0.0.1 (the heartbeat
writer, the control plane, an OANDA v20 simulator) and writes the ops.toml the suite
reads. Each named scenario (`scenarios.py`) breaks one thing the way a real platform
breaks, and says which checks must catch it and at what severity.

Built apart from the suite, on purpose
--------------------------------------
The sandbox is an independent implementation of the platform contract (the spec's
platform-contract.md), not a mirror of the suite: it must not import the suite's judging
code (`tradeops.probe`, `tradeops.slo`, `tradeops.connectors`, `tradeops.market`, ...), or
a misreading of the contract would be written once and agree with itself.
tests/sandbox/test_floor_plan.py enforces that, and that there are no import circles here.
Where the sandbox repeats the suite's arithmetic (currency conversion to the home
currency, the FX market's hours), the place says it is a deliberate copy.

Floor plan (lower layers first; nothing imports upwards)
--------------------------------------------------------
- `scenarios.py`: the fault names, the scenario table, the accounts, and which store
  faults change the history (`HISTORY_FAULTS`). Pure data.
- `_loopback.py`: `LoopbackServer`, the threaded 127.0.0.1 HTTP server that both the
  control plane and the OANDA simulator are (a client that hangs up is no error).
- `store/`: the store generator. `model.py` (pairs, accounts, strategies, money,
  `StoreParams`), `generator.py` (the cached history plus the live session, the entry
  point), `_history.py`, `_live.py` and `_live_faults.py` (the days, today, and the store
  faults), `_books.py`, `_runs.py`, `_stats.py`, `_platform_events.py`, `_sqlite.py`.
- `servers/`: the platform's own processes, `writer.py` (heartbeats, checkpoints) and
  `control_plane.py` (the control plane's HTTP API).
- `oanda/`: the OANDA v20 simulator, `broker.py` (the server) over `_api.py` (routes),
  `_render.py`, `_ledger.py`, `_prices.py` and `_transactions.py`.
- `platform.py`: `Sandbox`, which builds the data, starts the processes and writes
  ops.toml; `__main__.py`: `python -m tradeops.sandbox`.

Adding a fault
--------------
1. Name it in `scenarios.py`, in `STORE_FAULTS` (the store builder applies it) or
   `SERVICE_FAULTS` (a process applies it), and add the scenario: what is wrong and
   which checks catch it with which severity. If it changes a day before today, add it
   to `HISTORY_FAULTS` too (a test fails if you do not).
2. Apply it in the one part that owns it: `store/_history.py` (past days),
   `store/_live.py` / `store/_live_faults.py` (today), `platform.py` (the sandbox.json
   the processes read), then `servers/` or `oanda/`.
3. Prove it in tests/sandbox (the fault is where the notes say) and let
   tests/checks/test_fault_matrix.py prove the suite catches it.

Importing this package is cheap and loads nothing else: the names below are loaded on
first use, so an operational run against a real platform never loads the sandbox.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradeops.sandbox.platform import Sandbox, SandboxError
    from tradeops.sandbox.scenarios import scenario
    from tradeops.sandbox.store.model import StoreParams

__all__ = ["Sandbox", "SandboxError", "StoreParams", "scenario"]

_HOMES = {
    "Sandbox": "tradeops.sandbox.platform",
    "SandboxError": "tradeops.sandbox.platform",
    "StoreParams": "tradeops.sandbox.store.model",
    "scenario": "tradeops.sandbox.scenarios",
}


def __getattr__(name: str) -> Any:
    """Load an exported name from its module on first use."""
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module 'tradeops.sandbox' has no attribute {name!r}") from None
    return getattr(importlib.import_module(home), name)
