"""A verdict that claims no more than was checked, on the paths operators really walk.

Each case was seen to go wrong: a `-k` typo that judged nothing said GREEN, a run stopped
by `-x` looked complete, `-p no:html` was a usage error, `--sandbox` beside
`--ops-config` silently used the sandbox, a suite bug read as a platform fault.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.suite_runner import REPO, run_kept
from tests.test_config import GOOD
from tradeops.reports import chain

SMALL = ("--ops-sandbox-days=3", "--ops-sandbox-strategies=6")

pytestmark = pytest.mark.slow


def _recorded(run) -> dict:
    (entry,) = [e for e in chain.read_entries(run.reports) if e["action"] == "add"]
    return entry["run"]


def test_a_run_that_judged_nothing_is_not_checked_everywhere(tmp_path):
    run = run_kept(tmp_path, "-m", "preflight", "-k", "broker_reachabilty", "--sandbox", *SMALL)
    assert run.returncode == 13, run.output[-2000:]
    headline = "NOT CHECKED: 0 of 5 pre-flight items judged (-k broker_reachabilty)"
    assert headline in run.output.splitlines()
    assert (run.doc["verdict"], run.doc["headline"]) == ("not_checked", headline)
    assert _recorded(run)["verdict"] == "not_checked"
    assert "GREEN" not in run.output


def test_a_run_narrowed_on_purpose_names_the_narrowing_and_the_count(tmp_path):
    run = run_kept(tmp_path, "-m", "preflight", "-k", "broker_reachability", "--sandbox", *SMALL)
    assert run.returncode == 0, run.output[-2000:]
    headline = "GREEN: no check failed; 1 of 5 pre-flight items judged (-k broker_reachability)"
    assert run.doc["headline"] == headline
    assert run.doc["completeness"]["narrowed_by"] == "-k broker_reachability"


def test_a_run_stopped_early_is_incomplete_and_exits_as_a_page(tmp_path):
    run = run_kept(tmp_path, "-x", "--sandbox=stale-heartbeat", *SMALL)
    assert run.returncode == 12, run.output[-2000:]
    completeness = run.doc["completeness"]
    assert completeness["stopped_early"] == "-x"
    assert completeness["ran"] < completeness["items"]
    assert run.doc["headline"].startswith(f"INCOMPLETE: {completeness['ran']} of ")
    assert _recorded(run)["verdict"] == "incomplete"


def test_collect_only_prints_no_verdict_and_records_nothing(tmp_path):
    run = run_kept(tmp_path, "-m", "preflight", "--collect-only", "-q", "--sandbox", *SMALL)
    assert run.returncode == 0, run.output[-2000:]
    assert "tradeops verdict" not in run.output
    assert run.doc is None
    assert not (run.reports / "chain.jsonl").exists()


def test_preflight_runs_without_pytest_html(tmp_path):
    run = run_kept(tmp_path, "-m", "preflight", "-p", "no:html", "--sandbox", *SMALL)
    assert run.returncode == 0, run.output[-2000:]
    assert run.doc["completeness"]["judged"] == 5
    assert _recorded(run)["verdict"] == "green"


def test_sandbox_and_a_manifest_together_is_a_usage_error(tmp_path):
    manifest = tmp_path / "ops.toml"
    manifest.write_text(GOOD)
    run = run_kept(tmp_path, "-m", "preflight", "--sandbox", "--ops-config", str(manifest))
    assert run.returncode == 4, run.output[-2000:]
    assert "--sandbox and --ops-config both name a platform" in run.output


def test_an_unexpected_exception_in_a_check_is_the_suites_defect_not_a_finding(tmp_path):
    project = tmp_path / "project"
    (project / "checks").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[tool.pytest]\ntestpaths = ["checks"]\nmarkers = ["platform: layer 1",'
        ' "severity(level): s", "runbook(id): r"]\n'
    )
    (project / "checks" / "test_bug.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.platform\n"
        '@pytest.mark.severity(level="P2")\n'
        '@pytest.mark.runbook(id="event-store-wal")\n'
        "def test_exposure():\n"
        "    raise KeyError('no USD_EUR or EUR_USD price')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
    env["TRADEOPS_CACHE"] = os.environ.get("TRADEOPS_CACHE", str(REPO / ".cache-tests"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "--sandbox", *SMALL,
         "--ops-json", str(tmp_path / "v.json"), "--ops-reports-dir", str(tmp_path / "r")],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    doc = json.loads((tmp_path / "v.json").read_text())
    (check,) = [c for c in doc["checks"] if c["check"] == "exposure"]
    assert check["outcome"] == "suite_error"
    assert check["summary"].startswith("the suite could not judge exposure: KeyError")
    assert doc["counts"]["severity"] == {"P0": 0, "P1": 0, "P2": 0, "P3": 0}
    assert (doc["verdict"], done.returncode) == ("incomplete", 1), done.stdout[-2000:]
    assert "SUITE DEFECT" in done.stdout
