"""The one verdict, judged on hand-made outcomes: each state, its headline and exit code."""

from __future__ import annotations

import pytest

from tradeops.verdict import RunFacts, build


def check(name: str, outcome: str, severity: str | None = "P1", summary: str = "") -> dict:
    return {
        "nodeid": f"checks/test_x.py::test_{name}",
        "check": name,
        "subject": None,
        "layer": "platform",
        "severity": severity,
        "runbook": "event-store-wal",
        "outcome": outcome,
        "effective_severity": severity if outcome in ("failed", "error") else None,
        "summary": summary,
        "findings": [],
    }


def facts(*checks: dict, items: int | None = None, **more) -> RunFacts:
    return RunFacts(checks=list(checks), items=len(checks) if items is None else items, **more)


@pytest.mark.parametrize(
    ("checks", "verdict", "code"),
    [
        ([check("a", "passed"), check("b", "skipped")], "green", 0),
        ([check("a", "failed", "P1"), check("b", "failed", "P2")], "red", 10),
        ([check("a", "failed", "P0")], "red", 10),
        ([check("a", "failed", "P2"), check("b", "passed")], "red", 11),
        ([check("a", "failed", "P3"), check("b", "suite_error", summary="the suite...")], "red", 1),
        (
            [check("a", "passed"), check("b", "suite_error", summary="the suite...")],
            "incomplete",
            1,
        ),
        ([check("a", "skipped"), check("b", "skipped")], "not_checked", 13),
        ([], "not_checked", 13),
    ],
)
def test_the_verdict_and_its_exit_code(checks, verdict, code):
    doc = build(facts(*checks))
    assert (doc["verdict"], doc["exit_code"]) == (verdict, code), doc["headline"]
    assert doc["headline"].startswith(verdict.upper().replace("_", " ") + ":")


def test_a_run_stopped_early_is_incomplete_even_with_only_a_ticket_seen():
    doc = build(facts(check("a", "failed", "P3"), items=10, stopped_by="-x"))
    assert (doc["verdict"], doc["exit_code"]) == ("incomplete", 12)
    assert doc["headline"] == (
        "INCOMPLETE: 1 of 10 checks ran, stopped early (-x); highest severity seen P3"
    )


def test_a_run_that_ran_everything_despite_maxfail_is_complete():
    doc = build(facts(check("a", "passed"), stopped_by="--maxfail=3"))
    assert doc["verdict"] == "green" and doc["completeness"]["stopped_early"] is None


def test_a_narrowed_run_names_the_narrowing_and_the_count_of_its_kind():
    doc = build(
        facts(check("a", "passed"), kind="preflight", kind_selected=5, narrowed_by=["-k a"])
    )
    assert doc["headline"] == "GREEN: no check failed; 1 of 5 pre-flight items judged (-k a)"


def test_a_red_layer_one_check_the_run_did_not_select_still_makes_it_red():
    red = [{"check": "clock_skew", "effective_severity": "P2", "summary": "120 s ahead"}]
    doc = build(facts(check("a", "passed"), platform_red=red))
    assert (doc["verdict"], doc["exit_code"]) == ("red", 11)
    assert doc["platform_red_not_selected"] == red


def test_not_judged_is_one_entry_per_cause_with_its_count():
    skipped = [check(n, "skipped", summary="unreliable: platform layer red (x)") for n in "abc"]
    doc = build(facts(*skipped, check("d", "skipped", summary="no live run")))
    assert [(g["cause"], g["count"]) for g in doc["not_judged"]] == [
        ("unreliable: platform layer red (x)", 3),
        ("no live run", 1),
    ]


def test_the_failures_list_most_severe_first_with_the_next_step():
    doc = build(facts(check("a", "failed", "P2"), check("b", "failed", "P0")))
    assert [f["check"] for f in doc["failures"]] == ["b", "a"]
    assert doc["failures"][0]["next_step"]
