"""Service level objectives, error budgets and the promote gate (docs/slo.md).

- `objectives`: the eight SLIs and their SQL measurements over the event store
- `history`: the suite's own probe history (control plane availability)
- `budget`: error budgets, the 50%/100% policy, multiwindow burn-rate alerts
- `evaluate`: every SLO of a manifest as of one instant, and the gate's decision
- `table`: the gate table as terminal text and as HTML
- `runbooks`: one checklist (P1/P2) or ticket template (P3) per SLO
"""

from __future__ import annotations
