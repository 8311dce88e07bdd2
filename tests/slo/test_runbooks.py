"""Every SLO check names a runbook: one per SLO, plus the gate's, in tradeops/runbooks.toml."""

from __future__ import annotations

import re

from tests.suite_runner import REPO
from tradeops.runbooks import KIND_FOR_SEVERITY, RUNBOOKS
from tradeops.slo.objectives import SLIS

SLO_BOOKS = {rid: book for rid, book in RUNBOOKS.items() if rid.startswith("slo-")}


def test_each_slo_and_the_gate_have_exactly_one_runbook():
    named = set()
    for path in (REPO / "slo").glob("test_*.py"):
        named |= set(re.findall(r'runbook\(id="([^"]+)"\)', path.read_text()))
    assert named | {s.runbook for s in SLIS.values()} == set(SLO_BOOKS)
    assert len(SLO_BOOKS) == len(SLIS) + 1


def test_each_slo_runbook_is_of_the_kind_its_severity_requires():
    for sli in SLIS.values():
        assert SLO_BOOKS[sli.runbook].kind == KIND_FOR_SEVERITY[sli.severity], sli.name
