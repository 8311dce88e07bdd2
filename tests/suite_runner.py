"""Run the real suite in a child pytest, the way an operator or cron would, and read its verdict."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tradeops.reports.schema import validate

REPO = Path(__file__).resolve().parents[1]
RUN_TIMEOUT_S = 180


@dataclass
class SuiteRun:
    """One finished run of the suite: exit code, terminal output and the JSON summary."""

    returncode: int
    output: str
    summary: dict | None

    def outcomes(self) -> dict[str, str]:
        """check id (with [subject]) -> passed / failed / error / skipped."""
        return {_name(c): c["outcome"] for c in self.checks}

    @property
    def checks(self) -> list[dict]:
        assert self.summary is not None, f"no JSON summary; the run said:\n{self.output[-3000:]}"
        return self.summary["checks"]

    def failed(self) -> dict[str, str]:
        """check id -> effective severity, for the checks that failed or errored."""
        return {
            _name(c): c["effective_severity"]
            for c in self.checks
            if c["outcome"] in ("failed", "error")
        }

    def skipped(self) -> dict[str, str]:
        """check id -> skip reason."""
        return {_name(c): c["summary"] for c in self.checks if c["outcome"] == "skipped"}


def _name(check: dict) -> str:
    return check["check"] + (f"[{check['subject']}]" if check["subject"] else "")


def run_suite(
    tmp_path: Path,
    *args: str,
    env: dict | None = None,
    cwd: Path | None = None,
    paths: tuple[str, ...] = ("checks",),
) -> SuiteRun:
    """Run `pytest <paths> <args>` in a child process with a JSON summary and an HTML report."""
    summary_path = tmp_path / "summary.json"
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
    child_env["TRADEOPS_CACHE"] = os.environ.get("TRADEOPS_CACHE", str(REPO / ".cache-tests"))
    child_env.update(env or {})
    command = [
        sys.executable,
        "-m",
        "pytest",
        *(str(REPO / p) for p in paths),
        f"--ops-json={summary_path}",
        f"--html={tmp_path / 'report.html'}",
        "-p",
        "no:randomly",
        *args,
    ]
    done = subprocess.run(
        command,
        cwd=cwd or tmp_path,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    if summary is not None:
        validate(summary)  # every verdict the suite writes keeps to its published schema
    return SuiteRun(done.returncode, done.stdout + done.stderr, summary)


@dataclass
class KeptRun:
    """A run that kept its paper trail: exit code, terminal, verdict document, reports dir."""

    returncode: int
    output: str
    doc: dict | None
    reports: Path


def run_kept(
    tmp_path: Path, *args: str, cwd: Path | None = None, env: dict | None = None
) -> KeptRun:
    """`pytest REPO <args>` from another directory, as cron runs it, keeping its reports in
    tmp_path/trail and its verdict document in tmp_path/verdict.json (options spaced)."""
    reports, doc = tmp_path / "trail", tmp_path / "verdict.json"
    env = {**clean_env(), **(env or {})}
    command = [sys.executable, "-m", "pytest", str(REPO), "--ops-json", str(doc),
               "--ops-reports-dir", str(reports), "-p", "no:randomly", *args]  # fmt: skip
    done = subprocess.run(
        command, cwd=cwd or tmp_path, env=env, capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    data = json.loads(doc.read_text()) if doc.exists() else None
    for written in [doc, *reports.glob("*/*.json")]:
        if written.exists():
            validate(json.loads(written.read_text()))
    return KeptRun(done.returncode, done.stdout + done.stderr, data, reports)


@contextlib.contextmanager
def sandbox_platform(directory: Path, scenario: str = "healthy", *options: str):
    """The sandbox as an operator runs it (`python -m tradeops.sandbox`): its manifest
    path and the tokens of its sandbox.env, until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tradeops.sandbox", "--scenario", scenario, "--dir",
         str(directory), *options],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_env(),
    )  # fmt: skip
    try:
        manifest = Path(process.stdout.readline().strip())
        assert manifest.is_file(), "the sandbox printed its ops.toml path"
        yield manifest, env_file(directory / "sandbox.env")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def env_file(path: Path) -> dict[str, str]:
    """The variables of a shell env file (`export NAME=value` lines)."""
    env = {}
    for line in path.read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        if name.strip() and not name.startswith("#"):
            env[name.strip()] = shlex.split(value)[0] if value.strip() else ""
    return env


def clean_env() -> dict[str, str]:
    """This environment without the suite's variables, with the tests' store cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
    env["TRADEOPS_CACHE"] = os.environ.get("TRADEOPS_CACHE", str(REPO / ".cache-tests"))
    return env
