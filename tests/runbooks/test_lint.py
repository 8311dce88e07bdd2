"""The runbook lint on the real data: every check has the runbook its severity requires,
every VERIFY selection collects a check, every query runs read-only and shows the fault on
the sandbox scenario that targets the check, and no runbook is orphaned."""

from __future__ import annotations

from tests.runbooks import _lint
from tradeops.runbooks import RUNBOOKS


def test_every_check_has_the_runbook_kind_its_severity_requires(collected):
    assert _lint.kind_problems(collected, RUNBOOKS) == []


def test_no_runbook_is_orphaned(collected):
    assert _lint.orphan_problems(collected, RUNBOOKS) == []


def test_every_five_step_runbook_gives_a_curl_a_query_and_a_verify_selection():
    assert _lint.command_problems(RUNBOOKS) == []


def test_every_verify_selection_collects_at_least_one_check(collected):
    assert _lint.selection_problems(RUNBOOKS, collected) == []


def test_every_query_runs_read_only_and_shows_the_fault_on_its_scenario(targets, query_results):
    assert _lint.query_problems(RUNBOOKS, targets, query_results) == []


def test_every_p0_p1_check_is_targeted_by_a_scenario_or_said_not_to_be(collected, targets):
    # The one five-step runbook no sandbox scenario reaches: its query is only proven to
    # run on healthy (tests/slo proves the SLO itself on hand-built stores).
    untargeted = {
        i.runbook for i in collected if i.severity in ("P0", "P1") and i.runbook not in targets
    }
    assert untargeted == {"slo-reconciliation-divergence"}
