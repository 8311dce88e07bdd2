"""The SLO table in the terminal summary and in the HTML report, as a pytest plugin object.

Each SLO check records its result as a user property (plain JSON, so it crosses xdist
workers); this plugin, registered on the controller only, collects them from the reports
and renders one table after the run, plus the gate's verdict when the gate ran.
"""

from __future__ import annotations

import json

import pytest

from tradeops.slo import table
from tradeops.slo.evaluate import gate
from tradeops.slo.result import SloResult

RESULT_PROPERTY = "tradeops_slo"  # user property: one SloResult as JSON
GATE_PROPERTY = "tradeops_slo_gate"  # user property: the gate ran
PLUGIN_NAME = "tradeops-slo-report"


class SloReport:
    """Collects SLO results from the run's reports; renders them once at the end."""

    def __init__(self, insufficient_data_blocks: bool = False) -> None:
        self.insufficient_data_blocks = insufficient_data_blocks
        self.results: dict[str, SloResult] = {}
        self.gate_ran = False

    @classmethod
    def install(cls, config: pytest.Config, insufficient_data_blocks: bool = False) -> None:
        """Register on the controller (never on an xdist worker), once."""
        manager = config.pluginmanager
        if hasattr(config, "workerinput") or manager.has_plugin(PLUGIN_NAME):
            return
        manager.register(cls(insufficient_data_blocks), PLUGIN_NAME)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for key, value in getattr(report, "user_properties", ()):
            if key == RESULT_PROPERTY:
                result = SloResult.from_json(json.loads(value))
                self.results[result.name] = result
            elif key == GATE_PROPERTY:
                self.gate_ran = True

    def gate_line(self) -> str:
        """The gate's verdict in one line, or "" when the gate did not run."""
        if not self.gate_ran:
            return ""
        decision = gate(self.results.values(), self.insufficient_data_blocks)
        if decision.passed:
            return "PROMOTE GATE OPEN: no budget exhausted, no page-level burn"
        return f"PROMOTE GATE CLOSED: {'; '.join(decision.blocked_by)}"

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.results:
            return
        tr = terminalreporter
        tr.write_sep("=", "tradeops SLOs", bold=True)
        for line in table.render_text(list(self.results.values())).splitlines():
            tr.write_line(line)
        line = self.gate_line()
        if line:
            tr.write_line(line, red=not line.startswith("PROMOTE GATE OPEN"), bold=True)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix, summary, postfix, session) -> None:
        if not self.results:
            return
        fragment = table.render_html(list(self.results.values()))
        line = self.gate_line()
        if line:
            fragment += f"<p><strong>{line}</strong></p>"
        prefix.append(fragment)
