"""A post-mortem drafted over a sandbox fault window has that fault's timeline.

The `stale-heartbeat` scenario stops one live run's heartbeats five minutes before "now"
and lets the platform's detector fire; the suite's pre-flight run then goes red. The draft
must start at the run's last heartbeat (the sandbox's own record of it), be detected by the
platform's detector, show the red run with its report, and, the run never resuming, claim
no all-clear.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.runbooks._sandbox import sandbox_class
from tests.suite_runner import REPO

TIMEOUT_S = 120


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("pm")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
    with sandbox_class()("stale-heartbeat", directory=base / "sandbox") as sandbox:
        reports = base / "reports"
        suite = subprocess.run(
            [sys.executable, "-m", "pytest", "-m", "preflight", "-q", "-p", "no:randomly",
             f"--ops-config={sandbox.manifest_path}", f"--ops-reports-dir={reports}"],
            cwd=REPO, env={**clean, **sandbox.environ}, capture_output=True, text=True,
            timeout=TIMEOUT_S, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert suite.returncode == 10, suite.stdout[-2000:]
        facts = json.loads((base / "sandbox" / "sandbox.json").read_text())
        now = int(time.time() * 1000)
        out = base / "postmortem.md"
        # No token in the environment: the draft reads only the store and the kept runs.
        done = subprocess.run(
            [sys.executable, "-m", "tradeops", "postmortem", "--since", _utc(now - 15 * 60_000),
             "--until", _utc(now + 60_000), "--ops-config", str(sandbox.manifest_path),
             "--reports-dir", str(reports), "--out", str(out)],
            cwd=base, env=clean, capture_output=True, text=True, timeout=TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        store = Path(facts["store"])
        with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
            rows = conn.execute(
                "SELECT seq, ts, type FROM events WHERE run_id = ? "
                "AND type IN ('HEARTBEAT', 'STALE_DETECTED') ORDER BY seq DESC LIMIT 2",
                (facts["notes"]["stale_run"],),
            ).fetchall()
        yield out.read_text(), facts, rows, reports


def _summary_line(text: str, label: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith(f"- **{label}:**")]
    return line


def test_the_first_signal_is_the_stale_runs_last_heartbeat(drafted):
    text, facts, rows, _ = drafted
    run = facts["notes"]["stale_run"]
    last_ms = facts["notes"]["stale_last_heartbeat_ts"][run]
    (heartbeat,) = [(seq, ts) for seq, ts, kind in rows if kind == "HEARTBEAT"]
    assert heartbeat[1] == last_ms
    line = _summary_line(text, "Start (first signal)")
    assert line.startswith(f"- **Start (first signal):** {_utc(last_ms)}: run {run}")
    assert line.endswith(f"(event seq {heartbeat[0]})")


def test_the_detection_is_the_platforms_stale_detector(drafted):
    text, facts, rows, _ = drafted
    (detected,) = [(seq, ts) for seq, ts, kind in rows if kind == "STALE_DETECTED"]
    line = _summary_line(text, "Detection")
    assert line.startswith(f"- **Detection:** {_utc(detected[1])}: the platform's detector")
    assert line.endswith(f"(event seq {detected[0]})")
    last_ms = facts["notes"]["stale_last_heartbeat_ts"][facts["notes"]["stale_run"]]
    seconds = round((detected[1] - last_ms) / 1000)
    assert f"- **Time to detect:** {seconds} s" in text or f"min {seconds % 60} s" in text


def test_the_red_preflight_run_is_on_the_timeline_with_its_report(drafted):
    text, _, _, reports = drafted
    (line,) = [line for line in text.splitlines() if "suite preflight run red (P1)" in line]
    path = line.rsplit("| report ", 1)[1].rstrip(" |")
    assert (reports / path).is_file()
    assert "first red check control_summary" in line


def test_no_all_clear_is_claimed_while_the_run_is_still_silent(drafted):
    text, facts, _, _ = drafted
    line = _summary_line(text, "All-clear")
    assert line.startswith("- **All-clear:** not reached by ")
    assert f"run {facts['notes']['stale_run']}" in line
    assert "Time to resolve" not in text
