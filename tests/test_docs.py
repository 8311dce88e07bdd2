"""The docs say what the code does: tables are rendered from the code, and kept in step."""

from __future__ import annotations

from tests.suite_runner import REPO
from tradeops.runbooks import markdown
from tradeops.sandbox.scenarios import markdown_table


def test_the_readme_scenario_table_is_the_one_the_tests_read():
    readme = (REPO / "README.md").read_text()
    start, end = "<!-- scenario-table:start -->\n", "\n<!-- scenario-table:end -->"
    assert readme[readme.index(start) + len(start) : readme.index(end)] == markdown_table()


def test_docs_runbooks_is_rendered_from_the_runbook_table():
    assert (REPO / "docs" / "runbooks.md").read_text() == markdown() + "\n"


def test_every_runbook_a_check_names_exists():
    import re

    from tradeops.runbooks import RUNBOOKS

    named = set()
    for path in (REPO / "checks").rglob("test_*.py"):
        named |= set(re.findall(r'runbook\(id="([^"]+)"\)', path.read_text()))
    assert named, "no check names a runbook"
    assert named <= set(RUNBOOKS)


def test_every_manifest_key_is_in_the_readme_reference():
    import dataclasses

    from tradeops import config

    readme = (REPO / "README.md").read_text()
    sections = [
        config.ControlPlaneConfig,
        config.EventStoreConfig,
        config.BrokerConfig,
        config.Thresholds,
        config.TrackingConfig,
        config.PortfolioConfig,
        config.SloConfig,
        config.GateConfig,
        config.ReportsConfig,
    ]
    for section in sections:
        for spec in dataclasses.fields(section):
            if spec.metadata.get("toml", True):
                assert f"| `{spec.name}` |" in readme, f"{section.__name__}.{spec.name}"
