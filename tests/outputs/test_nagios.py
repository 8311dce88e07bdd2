"""The Nagios plugin: every verdict maps to its state, the line is one line with perfdata,
and a file that is not a fresh verdict document is UNKNOWN, never OK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.outputs.documents import FINISHED_S, check, document, red, slo
from tradeops.outputs import nagios

ALL_PASSED = document("green")


@pytest.mark.parametrize(
    ("doc", "state"),
    [
        (ALL_PASSED, nagios.OK),
        (red("P0"), nagios.CRITICAL),
        (red("P1"), nagios.CRITICAL),
        (red("P2"), nagios.WARNING),
        (red("P3"), nagios.WARNING),
        (document("red", highest=None), nagios.CRITICAL),
        (document("not_checked"), nagios.UNKNOWN),
        (document("incomplete"), nagios.UNKNOWN),
        (red("P1", verdict="incomplete"), nagios.CRITICAL),
        (red("P2", verdict="incomplete"), nagios.UNKNOWN),
        (red("P2", suite_errors=[{"check": "x", "message": "KeyError"}]), nagios.UNKNOWN),
        (red("P1", suite_errors=[{"check": "x", "message": "KeyError"}]), nagios.CRITICAL),
        (document("purple"), nagios.UNKNOWN),
    ],
    ids=[
        "green-ok",
        "P0-critical",
        "P1-critical",
        "P2-warning",
        "P3-warning",
        "red-without-severity-critical",
        "not-checked-unknown",
        "incomplete-unknown",
        "stopped-after-a-P1-critical",
        "stopped-after-a-P2-unknown",
        "suite-defect-outranks-a-ticket",
        "a-page-outranks-a-suite-defect",
        "unknown-verdict-unknown",
    ],
)
def test_each_verdict_maps_to_its_nagios_state(doc: dict, state: int) -> None:
    got, line = nagios.render(doc)
    assert got == state
    assert line.startswith(f"TRADEOPS {nagios.STATES[state]} - ")


def test_the_line_is_one_line_with_the_headline_the_worst_check_and_perfdata() -> None:
    doc = red("P1", headline="RED: highest | severity P1\nsecond line")
    _, line = nagios.render(doc)
    text, perf = line.split(" | ")
    assert "\n" not in line and line.count("|") == 1
    assert "RED: highest / severity P1 second line" in text
    assert text.endswith("worst: heartbeat_fresh[s1]")
    assert perf.split() == [
        "judged=5;;;0;5",
        "passed=3;;;0;5",
        "failed=2;;;0;5",
        "error=0;;;0;5",
        "skipped=0;;;0;5",
        "waived=0;;;0;5",
        "suite_error=0;;;0;5",
        "duration=0.610s;;;0;",
    ]


def test_perfdata_carries_each_judged_slos_budget_left_with_nagios_thresholds() -> None:
    doc = document(
        slo=[slo("run_success", remaining=0.51), slo("promote_gate_latency", remaining=None)]
    )
    _, line = nagios.render(doc)
    assert "budget_run_success=51.00%;50:;0:;;" in line
    assert "promote_gate_latency" not in line  # insufficient data: no figure is claimed


def test_a_waived_failure_is_counted_in_an_ok_line() -> None:
    doc = document("green", [check("a"), check("b", "waived")])
    state, line = nagios.render(doc)
    assert state == nagios.OK
    assert "1 waived" in line and "waived=1;" in line


def test_a_report_older_than_max_age_is_unknown_and_says_how_old() -> None:
    state, line = nagios.render(ALL_PASSED, now_s=FINISHED_S + 3 * 3600, max_age_s=7200)
    assert state == nagios.UNKNOWN
    assert "STALE: the last run's report is 180 min old (max 120 min)" in line


def test_a_stale_critical_stays_critical() -> None:
    state, _ = nagios.render(red("P1"), now_s=FINISHED_S + 3 * 3600, max_age_s=7200)
    assert state == nagios.CRITICAL


def test_a_fresh_report_keeps_its_state_under_max_age() -> None:
    state, _ = nagios.render(red("P2"), now_s=FINISHED_S + 60, max_age_s=7200)
    assert state == nagios.WARNING


def _plugin(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tradeops.outputs.nagios", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_command_exits_with_the_state_and_prints_one_line(tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    report.write_text(json.dumps(red("P2")))
    done = _plugin(str(report))
    assert done.returncode == nagios.WARNING
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("TRADEOPS WARNING - ")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read"),
        ("{not json", "not JSON"),
        (json.dumps([1, 2]), "not a tradeops verdict document"),
        (json.dumps({"schema": 1, "verdict": "green"}), "not a tradeops verdict document"),
        (json.dumps({"schema": 2, "verdict": "GREEN"}), "unknown verdict 'GREEN'"),
    ],
    ids=["missing", "not-json", "not-an-object", "old-schema", "unknown-verdict"],
)
def test_a_file_that_is_not_a_verdict_document_is_unknown_naming_the_file(
    tmp_path: Path, content: str | None, says: str
) -> None:
    report = tmp_path / "run.json"
    if content is not None:
        report.write_text(content)
    done = _plugin(str(report))
    assert done.returncode == nagios.UNKNOWN
    assert done.stdout.startswith(f"TRADEOPS UNKNOWN - {report}: {says}")


def test_a_stale_report_on_the_command_line_is_unknown(tmp_path: Path) -> None:
    report = tmp_path / "run.json"
    report.write_text(json.dumps(document("green", finished="2020-01-01T00:00:00.000Z")))
    done = _plugin("--max-age", "2h", str(report))
    assert (done.returncode, done.stdout.split(" - ")[1][:6]) == (nagios.UNKNOWN, "STALE:")


@pytest.mark.parametrize("args", [(), ("--max-age", "soon", "run.json"), ("--bogus",)])
def test_a_usage_error_is_unknown_never_a_platform_state(args: tuple[str, ...]) -> None:
    assert _plugin(*args).returncode == nagios.UNKNOWN


def test_the_module_writes_nothing_at_run_time() -> None:
    assert nagios.wanted(object()) is False
    assert nagios.write(ALL_PASSED, object()) == []


def _kept(root: Path, day: str, name: str, doc: dict) -> None:
    (root / day).mkdir(parents=True, exist_ok=True)
    (root / day / name).write_text(json.dumps(doc))


def test_a_reports_root_reads_the_newest_kept_run_of_the_kind(tmp_path: Path) -> None:
    _kept(tmp_path, "2026-11-30", "preflight-20261130T235900Z-aa01.json", red("P1"))
    _kept(tmp_path, "2026-12-01", "preflight-20261201T083000Z-bb02.json", red("P2"))
    _kept(tmp_path, "2026-12-01", "slo-20261201T090000Z-cc03.json", ALL_PASSED)
    _kept(tmp_path, "2026-12-01", "preflight-20261201T083000Z-bb02.html", {})
    assert nagios.newest(tmp_path, "preflight").name == "preflight-20261201T083000Z-bb02.json"
    done = _plugin("--kind", "preflight", str(tmp_path))
    assert done.returncode == nagios.WARNING, done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [(("--kind", "preflight"), "no kept preflight run"), ((), "a reports root needs --kind")],
    ids=["no-run-of-the-kind", "no-kind"],
)
def test_a_reports_root_without_such_a_run_is_unknown(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    _kept(tmp_path, "2026-12-01", "slo-20261201T090000Z-cc03.json", ALL_PASSED)
    done = _plugin(*args, str(tmp_path))
    assert done.returncode == nagios.UNKNOWN and says in done.stdout
