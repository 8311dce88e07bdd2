"""The service level objectives, one check per SLO: `pytest slo/` (the cron run).

Each SLO is judged over its own window as of the session clock (or `--ops-as-of`): the
check fails when the error budget is exhausted (freeze) or a page-level burn fires;
at 50% of the budget, or when a ticket-level burn fires, it passes with a warning that
shows in every report; with too few events to judge it is skipped as "insufficient
data", neither green nor red.
"""

from __future__ import annotations

import warnings

import pytest

from tradeops import Finding, expect_none
from tradeops.slo.budget import INSUFFICIENT
from tradeops.slo.objectives import SLIS
from tradeops.slo.result import SloWarning

pytestmark = pytest.mark.slo


def _slo(name: str):
    sli = SLIS[name]
    return pytest.param(
        name,
        marks=[pytest.mark.severity(level=sli.severity), pytest.mark.runbook(id=sli.runbook)],
        id=name,
    )


@pytest.mark.parametrize("name", [_slo(name) for name in SLIS])
def test_slo(name, slo_results, record_slo, unreliable_slos):
    """The SLO's error budget is not exhausted and it is not burning at page level."""
    result = slo_results[name]
    record_slo(result)
    for note in result.notes:
        warnings.warn(SloWarning(f"{result.title}: {note}"), stacklevel=1)
    if result.verdict == INSUFFICIENT:
        pytest.skip(result.problem())
    if name in unreliable_slos:
        pytest.skip(unreliable_slos[name])
    if result.blocks_gate():
        expect_none([Finding(result.problem() or result.title)])
    if result.problem():
        warnings.warn(SloWarning(result.problem()), stacklevel=1)
