"""`python -m tradeops.sandbox`: run by hand, point the suite at it, stop it with a signal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from tests.suite_runner import run_suite
from tradeops.sandbox.scenarios import markdown_table


def test_table_prints_the_scenario_table():
    done = subprocess.run(
        [sys.executable, "-m", "tradeops.sandbox", "--table"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == markdown_table()


def test_the_sandbox_by_hand_prints_its_manifest_and_keeps_tokens_off_the_terminal(tmp_path):
    env = {**os.environ, "TRADEOPS_CACHE": os.environ.get("TRADEOPS_CACHE", str(tmp_path / "c"))}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tradeops.sandbox",
            "--scenario",
            "residual-run",
            "--dir",
            str(tmp_path / "sbx"),
            "--days",
            "3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        manifest = process.stdout.readline().strip()
        assert manifest == str(tmp_path / "sbx" / "ops.toml")
        env_file = tmp_path / "sbx" / "sandbox.env"
        assert oct(env_file.stat().st_mode & 0o777) == "0o600"
        tokens = dict(
            line.removeprefix("export ").split("=", 1) for line in env_file.read_text().splitlines()
        )
        run = run_suite(tmp_path, "-m", "preflight", f"--ops-config={manifest}", env=tokens)
        assert run.failed() == {"residual_runs": "P1"}, run.output[-3000:]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0
    for token in tokens.values():
        assert token not in out + err
    assert "source" in err and "sandbox.env" in err
