"""The whole suite against every sandbox scenario, compared with the scenario table.

For each scenario, under -n 0 and -n 2: exactly the table's checks fail, each with the
table's severity; when a platform check fails, every strategy and portfolio check is
skipped as "unreliable: platform layer red (...)", never passed or failed; healthy is all
green; the exit code says how bad it is (10 page, 11 ticket, 0 green).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.suite_runner import SuiteRun, run_suite
from tradeops.market import fx_market_open
from tradeops.sandbox.scenarios import SCENARIOS

SIZE = ("--ops-sandbox-days=8",)
UPPER = ("strategy", "portfolio")


def expected_failures(name: str) -> dict[str, str]:
    scenario = SCENARIOS[name]
    if scenario.market_hours_only and not fx_market_open(datetime.now(UTC)):
        return {}
    return scenario.failing_checks


def failures_by_check(run: SuiteRun) -> dict[str, str]:
    """check id -> the highest severity it failed with (over all its subjects)."""
    found: dict[str, str] = {}
    for check in run.checks:
        if check["outcome"] in ("failed", "error"):
            severity = check["effective_severity"]
            found[check["check"]] = min(found.get(check["check"], severity), severity)
    return found


@pytest.mark.slow
@pytest.mark.parametrize("workers", ["0", "2"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_suite_fails_exactly_what_the_table_says(tmp_path, name, workers):
    run = run_suite(tmp_path, f"--sandbox={name}", *SIZE, "-n", workers)
    expected = expected_failures(name)
    assert failures_by_check(run) == expected, run.output[-4000:]

    layers = {c["check"]: c["layer"] for c in run.checks}
    platform_red = any(layers[check] == "platform" for check in expected)
    upper = [c for c in run.checks if c["layer"] in UPPER]
    assert upper, "the run judged no strategy or portfolio check"
    if platform_red:
        assert all(c["outcome"] == "skipped" for c in upper)
        assert all(c["summary"].startswith("unreliable: platform layer red (") for c in upper)
    else:
        unreliable = [c for c in run.checks if c["summary"].startswith("unreliable")]
        assert all("positions_match_broker" in c["summary"] for c in unreliable), unreliable

    top = min(expected.values(), default=None)
    assert run.returncode == {None: 0, "P0": 10, "P1": 10}.get(top, 11), run.output[-3000:]


@pytest.mark.slow
def test_the_report_lists_the_layers_bottom_up(tmp_path):
    run = run_suite(tmp_path, "--sandbox=healthy", *SIZE, "-n", "2")
    order = {"platform": 0, "strategy": 1, "portfolio": 2}
    ranks = [order[c["layer"]] for c in run.checks]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == 3
