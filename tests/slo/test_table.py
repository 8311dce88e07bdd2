"""The gate table, as the terminal and the HTML report show it."""

from __future__ import annotations

from tests.slo.test_evaluate import result
from tradeops.slo.budget import Counts
from tradeops.slo.table import HEADERS, render_html, render_text

RESULTS = [
    result("run_success", Counts(600, 30)),
    result(
        "heartbeat_delivery", Counts(100_000, 600), **{"3d": Counts(100, 1), "6h": Counts(10, 0)}
    ),
    result("promote_gate_latency", Counts(3, 0)),
    result("trade_persistence", Counts(), errors=("broker timed out",)),
    result("reconciliation_divergence", Counts(400, 0)),
]


def test_the_text_table_has_one_row_per_slo_with_its_numbers_and_verdict():
    text = render_text(RESULTS)
    lines = text.splitlines()
    assert lines[0] == "SLOs as of 2026-11-18T11:06:40Z"
    assert all(h in lines[1] for h in HEADERS)
    row = {line.split("  ")[0]: line for line in lines[3:8]}
    assert "99.5%" in row["run success"] and "95%" in row["run success"]
    assert row["run success"].endswith("FREEZE: budget exhausted")
    assert "-900%" in row["run success"]  # 30 bad of a 3-event budget: 1000% used
    assert row["heartbeat delivery"].endswith("WARN 60% used")
    assert row["promote gate latency"].endswith("insufficient data (3 < 20)")
    assert row["trade persistence"].endswith("ERROR")
    assert row["reconciliation divergence"].endswith("ok")
    assert "  trade persistence: broker timed out" in lines


def test_the_html_fragment_carries_the_same_rows_escaped():
    hostile = result("run_success", Counts(10, 0), errors=("<script>alert(1)</script>",))
    fragment = render_html([*RESULTS, hostile])
    assert fragment.count("<tr data-slo=") == len(RESULTS) + 1
    assert 'data-verdict="exhausted"' in fragment
    assert "<script>" not in fragment and "&lt;script&gt;" in fragment
    assert "FREEZE: budget exhausted" in fragment


def test_an_slo_with_insufficient_data_shows_its_counts_but_no_budget_or_burn_figures():
    # 3 events, all bad: a budget of 0.003 events, "-99900% left" and burn rates of 1000.
    burning = {"1h": Counts(3, 3), "5m": Counts(3, 3)}
    starved = result("promote_gate_latency", Counts(3, 3), **burning)
    text = render_text([starved])
    row = text.splitlines()[3]
    assert row.endswith("insufficient data (3 < 20)")
    assert row.count("%") == 1  # the objective only, no actual or budget left
    assert "1e+03" not in row and " !" not in row
    cells = row.split()
    assert cells[cells.index("d") + 1 :][:7] == ["-", "3", "3", "-", "-", "-", "-"]
