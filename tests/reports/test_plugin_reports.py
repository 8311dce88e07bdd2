"""Every operational run leaves a kept report, JSON and JUnit, recorded and indexed."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from tests.reports.fakes import record_run
from tests.reports.project import (
    FAILED_CHECKS,
    Run,
    make_project,
    report_files,
    run_pytest,
    verify,
)
from tradeops.reports import chain

RED = "store_mode,control_plane,prices_fresh[101-B]"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A fresh throwaway project with checks/ and slo/."""
    return make_project(tmp_path / "project", slo=True)


@pytest.fixture(scope="module")
def red(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """One red run of checks/ and slo/ without flags, shared by the tests that read it."""
    project = make_project(tmp_path_factory.mktemp("red") / "project", slo=True)
    run = run_pytest(project, "checks", "slo", env={"FAKE_FAIL": RED})
    assert run.returncode in FAILED_CHECKS, run.output
    return project, run


def report_data(html: Path) -> dict:
    """pytest-html's data blob: environment and every row's cells."""
    blob = re.search(r'data-jsonblob="([^"]*)"', html.read_text())
    assert blob is not None, "no pytest-html data in the report"
    return json.loads(unescape(blob.group(1)))


def rows(data: dict) -> dict[str, str]:
    """test id -> the row's cells joined (one row per test id)."""
    return {
        test[0]["testId"]: "".join(test[0]["resultsTableRow"]) for test in data["tests"].values()
    }


def test_a_run_with_no_flags_leaves_a_kept_report_json_and_junit(red):
    project, run = red
    files = report_files(project / "reports")
    assert [f.suffix for f in files] == [".html", ".json", ".xml"]
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert re.fullmatch(
        rf"{today}/full-\d{{8}}T\d{{6}}Z-[0-9a-f]{{8}}",
        files[0].relative_to(project / "reports").with_suffix("").as_posix(),
    )
    assert "<!DOCTYPE html>" in files[0].read_text()
    assert "tradeops paper trail: chain entry #1" in run.output
    (entry,) = chain.read_entries(project / "reports")
    assert [f["path"] for f in entry["files"]] == [
        f.relative_to(project / "reports").as_posix() for f in files
    ]
    assert (project / "reports" / "index.html").is_file()
    assert verify(project / "reports").stdout.startswith("intact: 1 runs, 3 files")


def test_the_report_kind_is_in_the_name(project):
    run_pytest(project, "-m", "preflight")
    (html,) = (project / "reports").glob("*/*.html")
    assert html.name.startswith("preflight-")


def test_the_report_shows_severity_layer_what_to_do_and_why_skipped(red):
    project, _ = red
    (html,) = (project / "reports").glob("*/*.html")
    page = html.read_text()
    assert '<th class="sortable" data-column-type="severity">Severity</th>' in page
    assert '<th class="sortable" data-column-type="layer">Layer</th>' in page
    # The three failed checks and the three layer-1 checks the down platform fails.
    assert "RED: highest severity P0: 6 check(s) failed (P0: 4, P1: 1, P2: 1)" in page
    assert '<title id="head-title">RED P0: tradeops full report' in page
    data = report_data(html)
    table = rows(data)
    failed = table["checks/test_fake.py::test_store_mode"]
    assert '<td class="col-severity sev-P1">P1</td><td class="col-layer">1 platform</td>' in failed
    assert "next step: Stop the platform&#x27;s writer" in failed
    assert 'href="../../docs/runbooks.md#event-store-wal"' in failed
    assert "sev-P2" in table["checks/test_fake.py::test_prices_fresh[101-B]"]
    passed = table["checks/test_fake.py::test_prices_fresh[101-A]"]
    assert '<td class="col-severity sev-declared">P2</td>' in passed  # grey: not an alarm
    skipped = table["checks/test_fake.py::test_no_residual_runs::setup"]
    assert "not judged: unreliable: platform layer red (" in skipped
    assert data["tests"]["checks/test_fake.py::test_store_mode"][0]["severity"] == "P1"


def test_the_environment_shows_what_ran_where_by_whom_and_no_url_secrets(project):
    # A user:password in a manifest URL is refused outright (tests/hardening/
    # test_manifest_matrix.py); the environment still shows origins only.
    manifest = project / "ops.toml"
    run_pytest(project, "-m", "platform", "-k", "store", env={"USER": "night-operator"})
    (html,) = (project / "reports").glob("*/*.html")
    environment = report_data(html)["environment"]
    assert environment["Operator"] == "night-operator"
    assert environment["Markers selected"] == "platform"
    assert environment["Keyword selection"] == "store"
    assert (
        environment["Manifest SHA-256"]
        == __import__("hashlib").sha256(manifest.read_bytes()).hexdigest()
    )
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", environment["Control plane"])
    assert "pw" not in environment["Brokers"]
    assert {"Suite version", "Git commit", "Host", "As of", "Python"} <= set(environment)


def test_the_json_summary_carries_what_ci_and_alerting_need(red):
    project, run = red
    (summary,) = (project / "reports").glob("*/*.json")
    data = json.loads(summary.read_text())
    assert data["run"]["exit_status"] == run.returncode
    assert (data["verdict"], data["highest_severity"]) == ("red", "P0")
    assert data["counts"]["severity"] == {"P0": 1, "P1": 1, "P2": 1, "P3": 0}
    assert data["counts"]["layer"] == {"platform": 3, "strategy": 0, "portfolio": 0, "slo": 0}
    assert [f["severity"] for f in data["failures"]] == ["P0", "P1", "P2"]
    first = data["failures"][0]
    assert (first["check"], first["severity"], first["runbook"]) == (
        "control_plane_answers",
        "P0",
        "docs/runbooks.md#control-plane-down",
    )
    assert "refused" in first["message"]
    assert first["next_step"]
    assert data["not_judged"][0]["cause"].startswith("unreliable: platform layer red")
    assert data["slo"][0]["name"] == "run_success"
    assert data["slo"][0]["verdict"] == "exhausted"
    assert data["run"]["kind"] == "full"


def test_junit_xml_lists_every_check_with_its_failure(red):
    project, _ = red
    (junit,) = (project / "reports").glob("*/*.xml")
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {
        "test_store_mode",
        "test_control_plane_answers",
        "test_prices_fresh[101-A]",
        "test_prices_fresh[101-B]",
        "test_no_residual_runs",
        "test_run_success",
    }
    assert cases["test_store_mode"].find("failure") is not None
    assert cases["test_no_residual_runs"].find("skipped") is not None


def test_html_option_wins_and_keeps_its_outputs_beside_it_outside_the_trail(tmp_path):
    project = make_project(tmp_path / "project", healthy=True)
    run = run_pytest(project, "--html=out/mine.html")
    assert run.returncode == 0, run.output
    assert sorted(p.name for p in (project / "out").iterdir() if p.is_file()) == [
        "mine.html",
        "mine.json",
        "mine.xml",
    ]
    # Outside the trail: no kept report, no chain entry, no index (the suite's own
    # control-plane probe history is still kept: the probe did happen).
    kept = (
        {p.name for p in (project / "reports").rglob("*")}
        if (project / "reports").exists()
        else set()
    )
    assert kept <= {"probe-history.sqlite", "probe-history.sqlite-wal", "probe-history.sqlite-shm"}


def test_a_run_of_the_suites_own_tests_leaves_no_report(project):
    (project / "tests").mkdir()
    (project / "tests" / "test_unit.py").write_text("def test_unit():\n    assert 1 + 1 == 2\n")
    run = run_pytest(project, "tests")
    assert run.returncode == 0, run.output
    assert not (project / "reports").exists()


def test_a_collection_error_leaves_an_incomplete_report_saying_so(project):
    (project / "checks" / "test_broken.py").write_text("import no_such_module\n")
    run = run_pytest(project)
    assert "INTERNALERROR" not in run.output
    (summary,) = (project / "reports").glob("*/*.json")
    data = json.loads(summary.read_text())
    # A check that cannot be collected was never judged: never green, and the suite's fault.
    assert data["verdict"] == "incomplete"
    assert run.returncode == 12
    assert data["collection_errors"][0]["nodeid"] == "checks/test_broken.py"
    assert verify(project / "reports").returncode == 0


def test_the_manifest_sets_the_place_and_retention_and_pruning_keeps_the_chain(project):
    manifest = project / "ops.toml"
    manifest.write_text(manifest.read_text() + '\n[reports]\ndir = "trail"\nkeep_days = 30\n')
    root = project / "trail"
    old = record_run(root, datetime.now(UTC) - timedelta(days=45))
    run = run_pytest(project)
    assert "tradeops retention: removed 1 run(s) older than 30 days" in run.output
    assert not any((root / f["path"]).exists() for f in old["files"])
    assert [e["action"] for e in chain.read_entries(root)] == ["add", "add", "prune"]
    assert verify(root).stdout.startswith("intact: 1 runs, 3 files, 3 chain entries")


def test_collect_only_leaves_no_report(project):
    run = run_pytest(project, "--collect-only", "-q")
    assert run.returncode == 0, run.output
    assert not (project / "reports").exists()


def test_an_unwritable_reports_root_is_one_line_before_any_check(project):
    (project / "reports").write_text("a file where the folder should be")
    run = run_pytest(project)
    assert run.returncode == 4, run.output
    assert "cannot create this run's report under" in run.output
    assert "Traceback" not in run.output
