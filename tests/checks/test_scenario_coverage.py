"""A check that cannot fail is a defect: every check is the target of some sandbox scenario.

The fault-matrix tests prove each scenario fails exactly its checks; this test proves no
check is left without a scenario. The SLOs the sandbox has too few events to judge are
proven on hand-built stores in tests/slo instead, named here with that reason.
"""

from __future__ import annotations

import re

from tests.suite_runner import REPO
from tradeops.sandbox.scenarios import SCENARIOS
from tradeops.slo.objectives import SLIS

# Proven to fail in tests/slo on small hand-built stores: the sandbox's history has fewer
# events than min_events for these, so there they are "insufficient data".
PROVEN_IN_TESTS_SLO = {
    "slo[broker_reconnection]",
    "slo[control_plane_availability]",
    "slo[reconciliation_divergence]",
    "slo[stale_detection_latency]",
    "slo[promote_gate_latency]",
    "promote_gate",  # tests/slo: the budget-exhausted sandbox closes the gate
}


def all_checks() -> set[str]:
    names = set()
    for path in (REPO / "checks").rglob("test_*.py"):
        names |= set(re.findall(r"^def test_(\w+)", path.read_text(), re.M))
    names |= {f"slo[{name}]" for name in SLIS}
    names.add("promote_gate")
    return names


def test_every_check_is_targeted_by_a_scenario_or_proven_in_tests_slo():
    targeted = {check for s in SCENARIOS.values() for check in s.failing_checks}
    assert all_checks() - targeted == PROVEN_IN_TESTS_SLO
    assert targeted <= all_checks(), "the table names a check that does not exist"
