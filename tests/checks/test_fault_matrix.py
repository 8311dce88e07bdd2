"""The whole suite against every sandbox scenario, compared with the scenario table.

For each scenario, under -n 0 and -n 2: exactly the table's checks fail, each with the
table's severity; when a platform check fails, every strategy and portfolio check is
skipped as "unreliable: platform layer red (...)", never passed or failed; healthy is all
green; the exit code says how bad it is (10 page, 11 ticket, 0 green).
"""

from __future__ import annotations

import pytest

from tests.checks.scenario_table import expected_failures, platform_red
from tests.suite_runner import SuiteRun, run_suite
from tradeops.sandbox.scenarios import SCENARIOS

SIZE = ("--ops-sandbox-days=8",)
WHOLE_SUITE = ("checks", "slo")  # what a bare `pytest` runs (testpaths)
UPPER = ("strategy", "portfolio")


def failures_by_check(run: SuiteRun) -> dict[str, str]:
    """check id -> the highest severity it failed with (over all its strategies or
    accounts); an SLO check is named with its SLO, as the table names it."""
    found: dict[str, str] = {}
    for check in run.checks:
        if check["outcome"] in ("failed", "error"):
            name = check["check"]
            if check["layer"] == "slo" and check["subject"]:
                name = f"{name}[{check['subject']}]"
            severity = check["effective_severity"]
            found[name] = min(found.get(name, severity), severity)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["0", "2"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_suite_fails_exactly_what_the_table_says(tmp_path, name, workers):
    run = run_suite(tmp_path, f"--sandbox={name}", *SIZE, "-n", workers, paths=WHOLE_SUITE)
    expected = expected_failures(name)
    assert failures_by_check(run) == expected, run.output[-4000:]

    upper = [c for c in run.checks if c["layer"] in UPPER]
    assert upper, "the run judged no strategy or portfolio check"
    if platform_red(expected):
        assert all(c["outcome"] == "skipped" for c in upper)
        assert all(c["summary"].startswith("unreliable: platform layer red (") for c in upper)
    else:
        unreliable = [c for c in run.checks if c["summary"].startswith("unreliable")]
        assert all("positions_match_broker" in c["summary"] for c in unreliable), unreliable

    top = min(expected.values(), default=None)
    assert run.returncode == {None: 0, "P0": 10, "P1": 10}.get(top, 11), run.output[-3000:]


@pytest.mark.slow
def test_the_report_lists_the_layers_bottom_up(tmp_path):
    run = run_suite(tmp_path, "--sandbox=healthy", *SIZE, "-n", "2", paths=WHOLE_SUITE)
    order = {"platform": 0, "strategy": 1, "portfolio": 2, "slo": 3}
    ranks = [order[c["layer"]] for c in run.checks]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == 4
