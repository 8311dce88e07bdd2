"""The promote gate and the cron SLO run, end to end against the sandbox platform.

Each test runs the real suite in a child pytest against a sandbox (real processes on
127.0.0.1, a real WAL store with 30 days of history): slow, so marked.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.suite_runner import run_suite
from tradeops.plugin import EXIT_TICKET
from tradeops.slo.objectives import SLIS

DAYS = "--ops-sandbox-days=30"  # the run-success window is 30 days


def _gate(tmp_path, scenario: str, *more: str):
    trail = f"--ops-reports-dir={tmp_path / 'trail'}"  # the probe history stays in tmp_path
    return run_suite(
        tmp_path, "-m", "promote_gate", f"--sandbox={scenario}", DAYS, trail, *more,
        paths=("slo",),
    )  # fmt: skip


@pytest.mark.slow
def test_the_budget_exhausted_scenario_closes_the_gate_naming_the_sli(tmp_path):
    run = _gate(tmp_path, "budget-exhausted")
    assert run.returncode == EXIT_TICKET, run.output[-3000:]  # run success is P2
    assert run.failed() == {"promote_gate": "P2"}, run.output[-3000:]
    assert "PROMOTE GATE CLOSED: run success (budget exhausted: freeze)" in run.output
    assert "run success: error budget exhausted (freeze)" in run.output
    # The one table, in the terminal and in the HTML report.
    for word in ("SLI", "objective", "actual", "eligible", "budget left", "burn 1h/5m"):
        assert word in run.output
    html = (tmp_path / "report.html").read_text()
    assert 'data-slo="run_success" data-verdict="exhausted"' in html


@pytest.mark.slow
def test_a_healthy_platform_passes_the_gate_and_says_what_it_could_not_judge(tmp_path):
    run = _gate(tmp_path, "healthy")
    assert run.returncode == 0, run.output[-3000:]
    assert "PROMOTE GATE OPEN" in run.output
    assert "insufficient data" in run.output  # said, not hidden


@pytest.mark.slow
def test_the_cron_run_judges_every_slo_without_the_gate(tmp_path):
    trail = f"--ops-reports-dir={tmp_path / 'trail'}"
    run = run_suite(tmp_path, "--sandbox=budget-exhausted", DAYS, trail, paths=("slo",))
    assert set(run.outcomes()) == {f"slo[{name}]" for name in SLIS}, run.output[-3000:]
    assert run.failed() == {"slo[run_success]": "P2"}, run.output[-3000:]
    assert "PROMOTE GATE" not in run.output


@pytest.mark.slow
def test_the_gate_is_not_asked_at_an_instant_before_the_stores_history(tmp_path):
    # Such an instant has no evidence behind it: a usage error naming the value, before
    # any SLO is judged (the gate closing on "no SLI could be judged": test_evaluate.py).
    before = datetime.now(UTC) - timedelta(days=60)  # before the sandbox's history
    as_of = before.strftime("%Y-%m-%dT%H:%M:%SZ")
    run = _gate(tmp_path, "budget-exhausted", f"--ops-as-of={as_of}")
    assert run.returncode == 4, run.output[-3000:]
    assert f"--ops-as-of '{as_of}': before the event store's first event" in run.output
    assert "PROMOTE GATE OPEN" not in run.output


@pytest.mark.slow
def test_slos_evaluated_beside_the_checks_are_the_ones_an_xdist_worker_evaluates(tmp_path):
    # In one process the SLOs are evaluated on a thread of their own while the layers'
    # checks run (slo/conftest.py); an xdist worker evaluates them when asked. The same
    # instant must give the same figures, to the last field.
    as_of = (datetime.now(UTC) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    figures = {}
    for workers in ("0", "2"):
        here = tmp_path / f"n{workers}"
        here.mkdir()
        run = run_suite(
            here, "--sandbox=budget-exhausted", DAYS, f"--ops-reports-dir={here / 'trail'}",
            f"--ops-as-of={as_of}", "-n", workers, paths=("checks", "slo"),
        )  # fmt: skip
        assert run.failed() == {"slo[run_success]": "P2"}, run.output[-3000:]
        figures[workers] = {slo["name"]: slo for slo in run.summary["slo"]}
    assert set(figures["0"]) == set(SLIS)
    assert figures["0"] == figures["2"]
