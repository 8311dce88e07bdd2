"""Scheduled runs work the way cron and systemd start them: a clean environment, tokens
from a mode-600 file, one run at a time, one log line per run."""

from __future__ import annotations

import fcntl
import os
import re
import selectors
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.suite_runner import REPO

DEPLOY = REPO / "deploy"
WRAPPER = DEPLOY / "tradeops-run"
RUN_TIMEOUT_S = 240
LINE = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ verdict=(?P<verdict>\S+) exit=(?P<exit>\d+) "
    r"report=(?P<report>\S+)(?: last=\"(?P<last>.*)\")?$"
)
CLEAN = {"PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "LOGNAME": "tradeops"}


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """`python -m tradeops.sandbox --scenario healthy --dir DIR`, running: its ops.toml and
    sandbox.env."""
    directory = tmp_path_factory.mktemp("sandbox")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
    if "TRADEOPS_CACHE" in os.environ:
        env["TRADEOPS_CACHE"] = os.environ["TRADEOPS_CACHE"]
    command = [sys.executable, "-m", "tradeops.sandbox", "--scenario", "healthy"]
    process = subprocess.Popen(
        [*command, "--dir", str(directory)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=120), "the sandbox printed no manifest path in time"
        manifest = Path(process.stdout.readline().strip())
        assert manifest.is_file(), f"the sandbox did not start: {manifest}"
        yield manifest, directory / "sandbox.env"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _cron_command() -> str:
    """The command part of deploy/cron/tradeops.cron's one schedule line (after the user)."""
    lines = [
        line
        for line in (DEPLOY / "cron" / "tradeops.cron").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert len(lines) == 1, lines
    return lines[0].split(None, 6)[6]


def _run(command: str, home: Path) -> subprocess.CompletedProcess:
    """`env -i` with what cron sets, then /bin/sh -c COMMAND, as cron runs it."""
    # The documented install keeps its venv at <suite>/.venv, where the wrapper looks; a
    # checkout whose venv lives elsewhere names this interpreter as the wrapper allows.
    python = (
        {} if (REPO / ".venv" / "bin" / "python").is_file() else {"TRADEOPS_PYTHON": sys.executable}
    )
    variables = {**CLEAN, "HOME": str(home), **python}
    env = ["env", "-i", *(f"{k}={v}" for k, v in variables.items())]
    return subprocess.run(
        [*env, "/bin/sh", "-c", command],
        capture_output=True, text=True, timeout=RUN_TIMEOUT_S, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _secret_env(path: Path, mode: int = 0o600) -> Path:
    path.write_text("export SOME_TOKEN=tok-not-for-logs\n")
    path.chmod(mode)
    return path


def test_the_documented_cron_line_works_under_a_clean_environment(sandbox, tmp_path):
    manifest, env_file = sandbox
    assert env_file.stat().st_mode & 0o777 == 0o600
    reports = tmp_path / "reports"
    # The sandbox's manifest, with the paper trail kept in the test's folder.
    ops = tmp_path / "ops.toml"
    ops.write_text(manifest.read_text().replace("[reports]\n", f'[reports]\ndir = "{reports}"\n'))
    log = tmp_path / "runs.log"
    command = (
        _cron_command()
        .replace("/opt/tradeops", str(REPO))
        .replace("/etc/tradeops/tradeops.env", str(env_file))
        .replace("/etc/tradeops/ops.toml", str(ops))
        .replace("/var/log/tradeops/runs.log", str(log))
    )
    command = command.replace(" -e ", f" -l {shlex.quote(str(tmp_path / 'run.lock'))} -e ", 1)
    done = _run(command, tmp_path)
    lines = log.read_text().splitlines()
    assert done.returncode == 0, "\n".join(lines)
    assert len(lines) == 1
    found = LINE.match(lines[0])
    assert found, lines[0]
    assert (found["verdict"], found["exit"]) == ("green", "0")
    report = Path(found["report"])
    assert report.suffix == ".html" and report.is_file() and reports in report.parents
    tokens = [line.split("=", 1)[1] for line in env_file.read_text().split() if "=" in line]
    assert tokens and not any(token in log.read_text() for token in tokens)


def test_a_second_run_while_one_holds_the_lock_is_skipped_with_code_75(tmp_path):
    lock = tmp_path / "run.lock"
    env_file = _secret_env(tmp_path / "tradeops.env")
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        done = _run(f"{WRAPPER} -e {env_file} -l {lock} -- --version", tmp_path)
    assert done.returncode == 75
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ skipped: previous run still going \(lock .*\)\n",
        done.stdout,
    )


def test_an_environment_file_others_can_read_is_refused_with_code_78(tmp_path):
    env_file = _secret_env(tmp_path / "tradeops.env", mode=0o644)
    done = _run(f"{WRAPPER} -e {env_file} -l {tmp_path / 'run.lock'}", tmp_path)
    assert done.returncode == 78
    assert f"environment file {env_file} is mode 644; tokens need 600" in done.stdout
    assert "tok-not-for-logs" not in done.stdout + done.stderr


def test_a_run_that_leaves_no_verdict_logs_its_exit_code_and_why(tmp_path):
    env_file = _secret_env(tmp_path / "tradeops.env")
    missing = tmp_path / "nowhere" / "ops.toml"
    done = _run(f"{WRAPPER} -e {env_file} -l {tmp_path / 'l'} -- --ops-config {missing}", tmp_path)
    assert done.returncode == 4
    found = LINE.match(done.stdout.strip())
    assert found and (found["verdict"], found["exit"], found["report"]) == ("none", "4", "none")
    assert str(missing) in found["last"]
    assert "tok-not-for-logs" not in done.stdout


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def _verify(units: list[Path]) -> subprocess.CompletedProcess:
    assert SYSTEMD_ANALYZE
    return subprocess.run(
        [SYSTEMD_ANALYZE, "verify", *map(str, units)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _units(tmp_path: Path, edit=lambda text: text) -> list[Path]:
    """The units as installed, with ExecStart pointing at this checkout's wrapper."""
    out = []
    for name in ("tradeops.service", "tradeops.timer"):
        text = (DEPLOY / "systemd" / name).read_text()
        (tmp_path / name).write_text(edit(text.replace("/opt/tradeops/deploy", str(DEPLOY))))
        out.append(tmp_path / name)
    return out


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed here")
def test_systemd_analyze_verify_accepts_the_service_and_the_timer(tmp_path):
    done = _verify(_units(tmp_path))
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


@pytest.mark.skipif(SYSTEMD_ANALYZE is None, reason="systemd-analyze is not installed here")
def test_systemd_analyze_verify_would_catch_a_broken_unit(tmp_path):
    done = _verify(_units(tmp_path, lambda text: text.replace("Type=oneshot", "Tpye=oneshot")))
    assert "Unknown key 'Tpye'" in done.stdout + done.stderr
