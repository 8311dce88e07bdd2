"""docs/monitoring.md says what the outputs do: its tables are kept in step with the code."""

from __future__ import annotations

from tests.outputs.documents import red, slo
from tests.suite_runner import REPO
from tradeops.config import SLO_DEFAULTS
from tradeops.outputs import prometheus
from tradeops.slo.alert_rules import markdown_thresholds

DOC = (REPO / "docs" / "monitoring.md").read_text()


def test_the_threshold_table_is_the_one_the_rules_are_generated_from() -> None:
    start, end = "<!-- thresholds:start -->\n", "\n<!-- thresholds:end -->"
    assert DOC[DOC.index(start) + len(start) : DOC.index(end)] == markdown_thresholds(SLO_DEFAULTS)


def test_every_series_of_the_textfile_is_documented() -> None:
    registry = prometheus.registry_of(red("P1", slo=[slo()]), previous_complete=1.0)
    names = {family.name for family in registry.collect()}
    assert len(names) > 15
    undocumented = sorted(n for n in names if f"`{n}`" not in DOC)
    assert undocumented == []
