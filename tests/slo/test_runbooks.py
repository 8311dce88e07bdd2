"""Every SLO check names a runbook: one per SLO, plus the gate's, in tradeops/runbooks.toml."""

from __future__ import annotations

import re

from tests.suite_runner import REPO
from tradeops.runbooks import RUNBOOKS
from tradeops.slo.objectives import SLIS

SLO_BOOKS = {rid: book for rid, book in RUNBOOKS.items() if rid.startswith("slo-")}


def test_each_slo_and_the_gate_have_exactly_one_runbook():
    named = set()
    for path in (REPO / "slo").glob("test_*.py"):
        named |= set(re.findall(r'runbook\(id="([^"]+)"\)', path.read_text()))
    assert named | {s.runbook for s in SLIS.values()} == set(SLO_BOOKS)
    assert len(SLO_BOOKS) == len(SLIS) + 1


def test_p2_slos_get_a_checklist_and_the_p3_slo_a_ticket_template():
    for sli in SLIS.values():
        book = SLO_BOOKS[sli.runbook]
        if sli.severity == "P2":
            assert all(step.startswith("[ ] ") for step in (book.confirm, book.resolve))
        if sli.severity == "P3":
            assert book.confirm.startswith("Ticket title:")
