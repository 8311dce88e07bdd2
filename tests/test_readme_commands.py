"""Every command the README shows is a promise: each runs as written, twice, and from
another working directory too.

The README's commands are read from its code blocks and tables, not copied here, so a
command added to the README is tested the day it is added. A command that needs a
platform gets the bundled sandbox the way an operator would point it at theirs: through
`$TRADEOPS_CONFIG` and the tokens in the environment, never by rewriting the command.
Two substitutions only, each said where it is made: the README's example manifest path
`/etc/tradeops/ops.toml` is the running sandbox's, and its example past instant is one
inside the sandbox's history (which always ends now).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.suite_runner import REPO, clean_env, sandbox_platform

README = REPO / "README.md"
RUN_TIMEOUT_S = 240
EXAMPLE_MANIFEST = "/etc/tradeops/ops.toml"
EXAMPLE_INSTANT = "2026-11-20T09:00:00Z"
# Not run here, each for its reason: installing is what CI itself does from nothing; the
# suite's own test command is the run this test is part of; the cron line and the
# long-running sandbox have tests of their own (tests/deploy, tests/sandbox/test_cli.py).
NOT_RUN = ("pip install", "pytest tests", "python -m tradeops.sandbox --scenario")
VERDICT = re.compile(r"^(GREEN|RED|INCOMPLETE|NOT CHECKED): ", re.M)

pytestmark = pytest.mark.slow


def readme_commands(text: str) -> list[str]:
    """The suite's commands in the README: shell code blocks' lines and table cells."""
    commands: list[str] = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, re.S):
        for line in block.splitlines():
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith(("pytest", "python -m tradeops")):
                    commands.append(part)
    for cell in re.findall(r"^\|.*$", text, re.M):
        commands += re.findall(r"`((?:pytest|python -m tradeops)[^`]*)`", cell)
    return list(dict.fromkeys(commands))


def runnable(commands: list[str]) -> list[str]:
    return [c for c in commands if not c.startswith(NOT_RUN)]


def test_the_readme_commands_are_found():
    commands = readme_commands(README.read_text())
    assert "pytest -m preflight --sandbox" in commands
    assert f"pytest -m preflight --ops-config {EXAMPLE_MANIFEST}" in commands
    assert "python -m tradeops.reports verify" in commands
    assert len(runnable(commands)) >= 8


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[tuple[Path, dict[str, str]]]:
    """The bundled sandbox, started as the README says, for the commands that need one."""
    with sandbox_platform(tmp_path_factory.mktemp("sandbox")) as platform:
        yield platform


def _argv(command: str, manifest: Path) -> list[str]:
    command = command.replace(EXAMPLE_MANIFEST, str(manifest))
    past = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    command = command.replace(EXAMPLE_INSTANT, past)
    argv = shlex.split(command)
    # `pytest` and `python` as the README says, from the environment the suite is in.
    if argv[0] == "pytest":
        return [sys.executable, "-m", "pytest", *argv[1:]]
    return [sys.executable, *argv[1:]]


def _run(argv: list[str], cwd: Path, manifest: Path, tokens: dict[str, str]):
    env = {**clean_env(), **tokens}
    if "--sandbox" not in " ".join(argv) and "--ops-config" not in " ".join(argv):
        env["TRADEOPS_CONFIG"] = str(manifest)  # as an operator's cron would set it
    return subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("command", runnable(readme_commands(README.read_text())))
def test_a_readme_command_runs_as_written_twice_and_from_elsewhere(command, sandbox, tmp_path):
    manifest, tokens = sandbox
    argv = _argv(command, manifest)
    runs = [_run(argv, REPO, manifest, tokens) for _ in range(2)]
    if argv[1:3] == ["-m", "pytest"]:
        # From another directory, naming the suite: `cd /tmp && pytest /opt/tradeops ...`,
        # or its folder where the command names one (`pytest slo/`).
        named = [str(REPO / a) if (REPO / a).exists() and not a.startswith("-") else a
                 for a in argv[3:]]  # fmt: skip
        elsewhere = [*argv[:3], *([] if named != argv[3:] else [str(REPO)]), *named]
        runs.append(_run(elsewhere, tmp_path, manifest, tokens))
    for done in runs:
        output = done.stdout + done.stderr
        assert "unrecognized arguments" not in output, output[-2000:]
        assert "INTERNALERROR" not in output, output[-2000:]
        assert done.returncode not in (2, 3, 4, 5), output[-3000:]
        if argv[1:3] == ["-m", "pytest"]:
            assert VERDICT.search(done.stdout), done.stdout[-3000:]
            expected = 10 if "stale-heartbeat" in command else None
            if expected is not None:
                assert done.returncode == expected, output[-3000:]
        else:
            assert done.returncode == 0, output[-3000:]
