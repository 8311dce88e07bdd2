"""The top of the report, rendered from verdict documents: what an operator reads first."""

from __future__ import annotations

import re
from pathlib import Path

from tests.reports.verdict_docs import every
from tradeops.reports import palette, pictures
from tradeops.reports._html import summary_block

ROOT = Path("/srv/tradeops")
HERE = ROOT / "reports" / "2026-12-01"


def top(name: str, **changes) -> str:
    doc = every()[name]
    doc.update(changes)
    return summary_block(doc, ROOT, HERE)


def banner(html: str) -> str:
    return re.search(r'<p class="banner ([\w-]+)" id="verdict"', html).group(1)


def test_the_banner_is_coloured_by_the_highest_severity_not_just_red_or_green():
    assert banner(top("healthy")) == palette.GREEN
    assert banner(top("p0")) == palette.RED
    assert banner(top("p2")) == palette.AMBER  # a budget-exhausted gate is not a P0
    assert banner(top("healthy", verdict="incomplete")) == palette.GREY
    assert banner(top("healthy", verdict="not_checked")) == palette.GREY


def test_the_failures_table_has_severity_check_subject_finding_next_step_and_runbook():
    html = top("p0")
    table = re.search(r'<table class="facts" id="failures">.*?</tbody></table>', html, re.S).group(
        0
    )
    heads = re.findall(r"<th>(.*?)</th>", table)
    assert heads == ["Severity", "Check", "Subject", "Finding", "Next step", "Runbook"]
    assert table.count('<tr class="failure">') == 2
    assert 'href="../../docs/runbooks.md#control-plane-down"' in table
    steps = re.sub(r"<[^>]+>", " ", table)
    assert "CONFIRM" in steps and "VERIFY" in steps  # the runbook's steps, embedded


def test_the_runbooks_own_html_steps_are_embedded():
    from tradeops import runbooks

    assert runbooks.html_fragment("control-plane-down") in top("p0")
    doc = every()["p0"]
    doc["failures"][0]["runbook"] = "https://wiki.example/runbooks#control-plane-down"
    assert 'href="https://wiki.example/runbooks#control-plane-down"' in summary_block(
        doc, ROOT, HERE
    )


def test_not_judged_is_one_expandable_line_per_cause_with_its_count():
    html = top("p0")
    lines = re.findall(r'<details class="not-judged"><summary>(.*?)</summary>', html)
    assert lines == ["unreliable: platform layer red (control_plane_health): <b>38</b>"]
    assert html.count("<li>heartbeat_fresh[s") == 8  # listed inside, folded


def test_a_schema_1_summary_is_grouped_by_reason_the_same_way():
    doc = every()["healthy"]
    doc["not_judged"] = [
        {"check": "a", "subject": "s1", "reason": "unreliable: x"},
        {"check": "a", "subject": "s2", "reason": "unreliable: x"},
        {"check": "b", "subject": None, "reason": "no live run"},
    ]
    html = summary_block(doc, ROOT, HERE)
    assert re.findall(r"<summary>(.*?)</summary>", html)[:2] == [
        "unreliable: x: <b>2</b>",
        "no live run: <b>1</b>",
    ]


def test_the_completeness_line_says_how_much_was_judged_and_why_not_all():
    assert "Completeness: 4 of 42 selected checks judged (42 ran)" in top("p0")
    doc = every()["healthy"]
    doc["completeness"].update(narrowed_by="-k wal_mode", stopped_early="-x")
    html = summary_block(doc, ROOT, HERE)
    assert '<p class="completeness partial"' in html
    assert "narrowed by -k wal_mode; stopped early: -x" in html


def test_hostile_text_from_the_platform_is_escaped_everywhere():
    doc = every()["p0"]
    doc["failures"][0]["message"] = "<script>alert(1)</script>"
    doc["checks"][5]["subject"] = "<img src=x onerror=alert(1)>"
    doc["slo"] = every()["healthy"]["slo"]
    doc["slo"][0]["title"] = "</svg><script>alert(2)</script>"
    html = summary_block(doc, ROOT, HERE)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)" in html


def test_every_picture_is_drawn_only_from_figures_the_document_has():
    charts = {
        name: re.findall(r'data-chart="([^"]+)"', pictures.pictures(doc))
        for name, doc in every().items()
    }
    assert "slo-budget:run_success" in charts["healthy"]
    assert "slo-burn:heartbeat_delivery" in charts["healthy"]
    assert {"grid:strategy", "grid:portfolio", "heartbeat"} <= set(charts["healthy"])
    assert "nav:101-001-1-001" in charts["healthy"] and "margin:101-001-1-002" in charts["healthy"]
    # Control plane down: nothing measured above layer 1, so no figures to draw.
    assert not any(c.startswith(("slo-", "nav:", "heartbeat")) for c in charts["p0"])
    # Insufficient data: the SLO is named, with no budget line drawn from 3 events.
    assert "slo-budget:run_success" not in charts["insufficient"]
    assert "no budget or burn figures to draw" in pictures.pictures(every()["insufficient"])


def test_the_budget_chart_marks_50_and_0_percent_and_the_as_of_instant():
    doc = every()["p2"]
    doc["as_of"] = "2026-11-30T12:00:00Z"
    svg = re.search(
        r'<svg[^>]*data-chart="slo-budget:run_success".*?</svg>', pictures.pictures(doc)
    ).group(0)
    assert ">50%</text>" in svg and ">0%</text>" in svg
    assert 'class="as-of"' in svg and ">as of</text>" in svg
    assert svg.count('class="series"') == 1


def test_an_slo_without_history_shows_its_budget_now_on_a_scale_not_a_lone_dot():
    doc = every()["healthy"]
    for s in doc["slo"]:
        s["history"] = []
    doc["slo"][1]["history"] = [{"at": "2026-11-01T00:00:00Z", "remaining": None}] * 3
    html = pictures.pictures(doc)
    budget = re.search(r'<svg[^>]*data-chart="slo-budget:run_success".*?</svg>', html).group(0)
    assert "polyline" not in budget and 'class="bar"' in budget and ">50%</text>" in budget
    assert 'data-chart="slo-budget:heartbeat_delivery"' in html  # a line with no points yet
