"""The pre-flight checklist against every sandbox scenario, compared with the scenario table.

Each item fails on the scenarios that target it, with the table's severity, and on no
other; when layer 1 is red the items above it are skipped as unreliable, never judged.
"""

from __future__ import annotations

import pytest

from tests.checks.scenario_table import PLATFORM_CHECKS, expected_failures, platform_red
from tests.suite_runner import run_suite
from tradeops.sandbox.scenarios import SCENARIOS

PREFLIGHT = {
    "control_summary": "strategy",
    "broker_reachability": "platform",
    "wal_mode": "platform",
    "residual_runs": "strategy",
    "strategy_readiness": "strategy",
}
SMALL = ("--ops-sandbox-days=3",)


def expected_preflight_failures(name: str) -> dict[str, str]:
    return {c: s for c, s in expected_failures(name).items() if c in PREFLIGHT}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_checklist_catches_exactly_what_the_table_says(tmp_path, name):
    run = run_suite(tmp_path, "-m", "preflight", f"--sandbox={name}", *SMALL)
    assert set(run.outcomes()) == set(PREFLIGHT), run.output[-3000:]
    expected = expected_preflight_failures(name)
    assert run.failed() == expected, run.output[-3000:]
    red = platform_red(expected_failures(name))
    for check, layer in PREFLIGHT.items():
        if check in expected:
            continue
        if red and layer == "strategy":
            assert run.skipped()[check].startswith("unreliable: platform layer red ("), check
        else:
            assert run.outcomes()[check] == "passed", (check, run.output[-3000:])
    # Exit code: by the worst failure, counting a red layer-1 check that -m preflight did
    # not select (the items above it were not judged: the run is not green).
    counted = {
        c: sev
        for c, sev in expected_failures(name).items()
        if c in expected or c in PLATFORM_CHECKS
    }
    top = min(counted.values(), default=None)
    assert run.returncode == {None: 0, "P0": 10, "P1": 10}.get(top, 11), run.output[-3000:]


def test_a_healthy_run_leaves_an_html_report_and_says_green(tmp_path):
    run = run_suite(tmp_path, "-m", "preflight", "--sandbox", *SMALL)
    assert run.returncode == 0, run.output[-3000:]
    assert "GREEN: no check failed" in run.output
    assert run.summary["verdict"] == "green"
    assert (tmp_path / "report.html").stat().st_size > 0


def test_a_failing_run_leads_with_severity_what_where_and_the_next_step(tmp_path):
    run = run_suite(tmp_path, "-m", "preflight", "--sandbox=residual-run", *SMALL)
    assert "RED: highest severity P1" in run.output
    assert "P1 residual_runs FAILED: 1 finding" in run.output
    assert "never reached RUN_ENDED" in run.output
    assert "next step:" in run.output
    assert "runbook: docs/runbooks.md#residual-run" in run.output


def test_a_hung_broker_costs_one_timeout_not_one_per_account(tmp_path):
    run = run_suite(tmp_path, "-m", "preflight", "--sandbox=broker-hang", *SMALL)
    assert run.failed() == {"broker_reachability": "P0"}
    assert "no answer within 2 s" in run.output or "did not answer" in run.output, run.output
