"""No secrets anywhere: a planted token reaches no HTML, JSON, JUnit, index, chain,
terminal output or traceback, with or without xdist workers.

The canary is the token the manifest names (sent in Authorization headers on failing
calls), a CI variable pytest-metadata copies (the xdist merge leak), and a line in the
manifest file itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reports.canary import CANARY, leaking_files, leaks
from tests.reports.project import FAILED_CHECKS, REPO, make_project, run_pytest

# pytest-metadata copies these CI variables into every process's metadata.
CI_VARIABLES = {"JENKINS_URL": f"https://ci.example/{CANARY}", "BUILD_URL": CANARY}
HARSH = ("-v", "-l", "--tb=long", "-rA")  # verbose header, locals in tracebacks, every result


def _planted(project: Path) -> None:
    manifest = project / "ops.toml"
    manifest.write_text(f"# rotated token, do not commit: {CANARY}\n" + manifest.read_text())


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_planted_token_is_in_no_output_of_a_failing_run(tmp_path, workers):
    project = make_project(tmp_path / "project", slo=True)
    _planted(project)
    env = {
        "FAKE_CP_TOKEN": CANARY,
        "FAKE_OANDA_TOKEN": CANARY,
        **CI_VARIABLES,
        "FAKE_FAIL": "store_mode,control_plane",
    }
    run = run_pytest(project, "checks", "slo", "-n", workers, *HARSH, env=env)
    assert run.returncode in FAILED_CHECKS, run.output
    assert "control_plane_answers FAILED" in run.output  # the token's request really failed
    assert leaks(run.output) == []
    assert leaking_files(project / "reports") == {}
    assert len(list((project / "reports").glob("*/*"))) == 3


# -- the real suite against sandbox fault scenarios -------------------------------------

START_TIMEOUT_S = 120


def _start_sandbox(directory: Path, scenario: str) -> tuple[subprocess.Popen, Path, dict]:
    """`python -m tradeops.sandbox` in its own process; its manifest path and tokens."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
    env["TRADEOPS_CACHE"] = os.environ.get("TRADEOPS_CACHE", str(REPO / ".cache-tests"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradeops.sandbox",
            "--scenario",
            scenario,
            "--dir",
            str(directory),
            "--days",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=REPO,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    env_file = directory / "sandbox.env"
    while not env_file.exists():  # bounded: the sandbox writes it last, once serving
        assert process.poll() is None, f"the sandbox {scenario} exited {process.returncode}"
        assert time.monotonic() < deadline, f"the sandbox {scenario} did not start in time"
        time.sleep(0.1)
    tokens = dict(
        line.removeprefix("export ").split("=", 1)
        for line in env_file.read_text().splitlines()
        if "=" in line
    )
    return process, directory / "ops.toml", tokens


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["stale-heartbeat", "control-plane-degraded"])
def test_a_planted_token_is_in_no_output_of_the_real_suite_on_a_fault_scenario(tmp_path, scenario):
    process, manifest, tokens = _start_sandbox(tmp_path / "sandbox", scenario)
    try:
        # One broker's token becomes the canary: every call with it is refused (401), so
        # the token travels the error path; the other tokens stay the sandbox's own.
        text = manifest.read_text()
        victim = next(name for name in tokens if "OANDA_B" in name)
        planted = tmp_path / "ops.toml"
        planted.write_text(f"# old token: {CANARY}\n" + text.replace(victim, "CANARY_TOKEN"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
        env.update(tokens)
        env.update({"CANARY_TOKEN": CANARY, **CI_VARIABLES})
        for workers in ("0", "2"):
            reports = tmp_path / f"reports-{workers}"
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    str(REPO / "checks"),
                    "-m",
                    "preflight",
                    f"--ops-config={planted}",
                    f"--ops-reports-dir={reports}",
                    "-p",
                    "no:randomly",
                    "-n",
                    workers,
                    *HARSH,
                ],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=180,
                stdin=subprocess.DEVNULL,
            )
            output = done.stdout + done.stderr
            assert done.returncode in FAILED_CHECKS, output
            assert "$CANARY_TOKEN" in output  # the canary was sent, and refused
            assert leaks(output) == []
            assert leaking_files(reports) == {}
            assert len(list(reports.glob("*/*"))) == 3, output
    finally:
        process.terminate()
        process.wait(timeout=10)
