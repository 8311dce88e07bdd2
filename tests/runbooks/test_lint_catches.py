"""The lint is not a rubber stamp: fed bad data, it fails and says what is wrong: a check
without a runbook, a runbook of the wrong kind, a VERIFY step that selects nothing, a query
that does not run (or would write), and a fault query that shows nothing."""

from __future__ import annotations

import time

from tests.runbooks import _lint
from tests.runbooks._lint import CheckItem
from tests.storebuilder import StoreBuilder
from tradeops.runbooks import RUNBOOKS, parse


def _steps_book(rid: str, *, verify: str = "-m platform -k wal_mode", sql: str = "SELECT 1;"):
    step = {"text": "do it"}
    return parse(
        rid,
        {
            "kind": "steps",
            "title": "t",
            "next_step": "n",
            "confirm": {**step, "curl": ["control:/api/health"], "sql": sql},
            "isolate": step,
            "resolve": step,
            "verify": {**step, "pytest": verify},
            "document": step,
        },
    )


def _item(check: str, severity: str | None, runbook: str | None) -> CheckItem:
    return CheckItem(f"checks/x.py::test_{check}", check, severity, runbook)


def test_a_check_without_a_runbook_fails_the_lint_naming_the_check(collected):
    items = [*collected, _item("new_check", "P1", None)]
    problems = _lint.kind_problems(items, RUNBOOKS)
    assert problems == ["checks/x.py::test_new_check: check new_check names no runbook"]


def test_a_check_naming_a_missing_runbook_or_no_severity_fails_the_lint():
    problems = _lint.kind_problems(
        [_item("a", "P1", "no-such-book"), _item("b", None, "wal-growth")], RUNBOOKS
    )
    assert problems == [
        "checks/x.py::test_a: runbook 'no-such-book' does not exist",
        "checks/x.py::test_b: no severity P0-P3 (got None)",
    ]


def test_a_p1_check_with_a_checklist_fails_the_lint():
    problems = _lint.kind_problems([_item("wal_growth", "P1", "wal-growth")], RUNBOOKS)
    assert problems == [
        "runbook wal-growth: is a checklist, but its checks are P1: a P1 check needs steps"
    ]


def test_a_runbook_nobody_names_is_reported_orphaned(collected):
    books = {**RUNBOOKS, "forgotten": _steps_book("forgotten")}
    assert _lint.orphan_problems(collected, books) == [
        "runbook forgotten: no check names it (orphaned)"
    ]


def test_a_verify_step_that_selects_nothing_fails_the_lint(collected):
    books = {
        "typo": _steps_book("typo", verify="-m platform -k wal_mod_e"),
        "wrong-layer": _steps_book("wrong-layer", verify="-m portfolio -k wal_mode"),
        "good": _steps_book("good", verify="-m platform -k wal_mode"),
    }
    assert _lint.selection_problems(books, collected) == [
        "runbook typo: VERIFY `pytest -m platform -k wal_mod_e` selects no check",
        "runbook wrong-layer: VERIFY `pytest -m portfolio -k wal_mode` selects no check",
    ]


def test_a_verify_expression_pytest_cannot_parse_fails_the_lint(collected):
    problems = _lint.selection_problems({"bad": _steps_book("bad", verify="-k 'a and'")}, collected)
    assert len(problems) == 1 and problems[0].startswith("runbook bad: VERIFY `pytest -k 'a and'`")


def test_the_selections_match_what_pytest_itself_selects(collected):
    assert _lint.selects("-m preflight -k wal_mode", collected) == [
        "checks/preflight/test_checklist.py::test_wal_mode"
    ]
    assert _lint.selects("slo/ -k trade_persistence", collected) == [
        "slo/test_slos.py::test_slo[trade_persistence]"
    ]


def _store(tmp_path):
    now = int(time.time() * 1000)
    return StoreBuilder(tmp_path / "events.sqlite", now_ms=now).run_started("r-1").write()


def test_a_query_that_does_not_run_fails_the_lint(tmp_path):
    store = _store(tmp_path)
    broken = "SELECT run_id FROM event WHERE type = 'RUN_STARTED';"  # no table "event"
    book = _steps_book("broken", sql=broken)
    results = {("broken", "sql", broken): {"healthy": _lint.run_query(store, broken)}}
    problems = _lint.query_problems({"broken": book}, {}, results)
    assert problems == [
        "runbook broken: sql \"SELECT run_id FROM event WHERE type = 'RUN_STARTED';\": "
        "does not run on healthy: OperationalError: no such table: event"
    ]


def test_a_query_that_would_write_does_not_run_because_the_store_is_read_only(tmp_path):
    store = _store(tmp_path)
    result = _lint.run_query(store, "DELETE FROM events;")
    assert isinstance(result, str) and "readonly" in result.replace(" ", "")
    assert _lint.run_query(store, "SELECT * FROM events;") == 1


def test_a_fault_query_that_shows_nothing_on_its_scenario_or_rows_when_healthy_fails():
    quiet = "SELECT 1 WHERE 0;"
    noisy = "SELECT 1;"
    books = {"quiet": _steps_book("quiet", sql=quiet), "noisy": _steps_book("noisy", sql=noisy)}
    results = {
        ("quiet", "sql", quiet): {"healthy": 0, "wal-off": 0},
        ("noisy", "sql", noisy): {"healthy": 1, "wal-off": 1},
    }
    targets = {"quiet": ["wal-off"], "noisy": ["wal-off"]}
    assert _lint.query_problems(books, targets, results) == [
        "runbook quiet: sql 'SELECT 1 WHERE 0;': returns no rows on wal-off",
        "runbook noisy: sql 'SELECT 1;': returns rows on healthy: it does not show the fault",
    ]


def test_a_five_step_runbook_without_commands_fails_the_lint():
    step = {"text": "think hard"}
    bare = parse(
        "bare",
        {"kind": "steps", "title": "t", "next_step": "n", **dict.fromkeys(
            ("confirm", "isolate", "resolve", "verify", "document"), step)},
    )  # fmt: skip
    assert _lint.command_problems({"bare": bare}) == [
        "runbook bare: no step gives the curl of an endpoint",
        "runbook bare: no step gives a read-only sqlite3 query",
        "runbook bare: VERIFY gives no pytest selection",
    ]
