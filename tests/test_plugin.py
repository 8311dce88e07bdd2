"""The plugin's promises: no platform is an error, a bad manifest stops before any check,
and a check without severity and runbook is not a check."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.suite_runner import run_suite
from tests.test_config import GOOD


def test_no_platform_configured_is_a_usage_error_never_a_green_run(tmp_path):
    run = run_suite(tmp_path, "-m", "preflight")
    assert run.returncode == 4, run.output
    assert "no platform configured" in run.output
    assert "passed" not in run.output


def test_a_bad_manifest_is_one_line_naming_file_and_key_before_any_check(tmp_path):
    manifest = tmp_path / "ops.toml"
    manifest.write_text(GOOD.replace("timeout_s = 5\n", "timeout_s = 5\ncolour = 'red'\n", 1))
    run = run_suite(tmp_path, "-m", "preflight", f"--ops-config={manifest}")
    assert run.returncode == 4, run.output
    assert f"ERROR: {manifest}: [control_plane] unknown key 'colour'" in run.output
    assert run.summary is None or not run.summary["checks"]


def test_a_missing_token_variable_is_a_usage_error_naming_the_variable(tmp_path):
    manifest = tmp_path / "ops.toml"
    manifest.write_text(GOOD)
    run = run_suite(tmp_path, "-m", "preflight", env={"TRADEOPS_CONFIG": str(manifest)})
    assert run.returncode == 4, run.output
    assert "environment variable $CONTROL_PLANE_TOKEN is not set" in run.output


def test_an_unknown_sandbox_scenario_lists_the_real_ones(tmp_path):
    run = run_suite(tmp_path, "-m", "preflight", "--sandbox=volcano")
    assert run.returncode == 4, run.output
    assert "unknown sandbox scenario 'volcano'" in run.output
    assert "healthy" in run.output


def test_a_check_without_severity_runbook_or_layer_fails_saying_so(tmp_path):
    project = tmp_path / "project"
    (project / "checks").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.pytest]\ntestpaths = ["checks"]\n')
    (project / "conftest.py").write_text('pytest_plugins = ["tradeops.plugin"]\n')
    (project / "checks" / "test_bare.py").write_text("def test_bare():\n    assert True\n")
    manifest = project / "ops.toml"
    manifest.write_text(GOOD.replace("CONTROL_PLANE_TOKEN", "T").replace("OANDA_TOKEN", "T"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", f"--ops-config={manifest}"],
        cwd=project,
        env={**os.environ, "T": "t"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0, done.stdout
    assert "test_bare.py::test_bare is not a valid check" in done.stdout
    assert 'needs @pytest.mark.severity(level="P0".."P3")' in done.stdout
    assert "needs a layer marker" in done.stdout
