"""The promote gate: `pytest -m promote_gate`, the CI step before a strategy goes live.

Closed (failed) while any SLO's error budget is exhausted, any page-level burn fires, or
any SLI cannot be measured: no strategy is promoted on an unproven platform. An SLO with
too little data does not block unless `[gate] insufficient_data_blocks = true`, but the
gate says so. The SLO table is printed after the run and put in the HTML report.
"""

from __future__ import annotations

import warnings

import pytest

from tradeops import expect_none
from tradeops.slo.evaluate import gate
from tradeops.slo.result import SloWarning


@pytest.mark.slo
@pytest.mark.promote_gate
@pytest.mark.severity(level="P2")
@pytest.mark.runbook(id="slo-promote-gate")
def test_promote_gate(slo_results, manifest, record_slo):
    """No error budget exhausted, no page-level burn, every SLI measured."""
    results = list(slo_results.values())
    record_slo(*results, gate=True)
    decision = gate(results, manifest.gate.insufficient_data_blocks)
    for note in decision.notes:
        warnings.warn(SloWarning(note), stacklevel=1)
    expect_none(decision.blocking)
