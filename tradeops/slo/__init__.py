"""Service level objectives, error budgets and the promote gate (docs/slo.md).

- `objectives`: the eight SLIs; `_sli_sql`, `_heartbeat_sql`, `_sql`: their SQL over the store
- `history`: the suite's own probe history (control plane availability)
- `budget`: error budgets, the 50%/100% policy, multiwindow burn-rate alerts
- `result`: one SLO evaluated, as data (its figures for the verdict document)
- `evaluate`: every SLO of a manifest as of one instant, and the gate's decision (which
  opens only on evidence)
- `table`, `report`: the gate table as terminal text and as HTML
"""

from __future__ import annotations
