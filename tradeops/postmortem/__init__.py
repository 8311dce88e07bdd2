"""Post-mortem drafts: `python -m tradeops postmortem --since T1 --until T2`.

A draft has the operations model's five sections. Summary and Timeline are prefilled with
facts, each with its source: the event store (read-only: disconnects and reconnects, runs
that went silent, stale detections, gaps, failed and aborted runs, divergent reconciliations
and alerts, promote decisions) and the suite's kept runs (first red check, changes of
severity, the first green after); the error budget each SLO burned in the window comes from
tradeops.slo's own evaluate/budget. Root cause, What worked (and where we got lucky) and
Action items are prompts for a person.

- `_store.py`: the store's facts of a window (its own SQL, run through the connector);
- `_runs.py`: the kept runs' facts (reports/chain.jsonl and each run's JSON);
- `draft.py`: start, detection, all-clear, blast radius, budgets; `_markdown.py`: the text;
- `cli.py`: the command line.
"""

from __future__ import annotations

from tradeops.postmortem.draft import Draft, build

__all__ = ["Draft", "build"]
