"""Done when: ten runs leave ten reports, an index of ten, verify intact; a byte changed
in any report is named."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.reports.project import FAILED_CHECKS, make_project, project_env, verify


def _child_env(project, fail: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
    return {**env, **project_env(project), "FAKE_FAIL": "store_mode" if fail else ""}


@pytest.mark.slow
def test_ten_runs_leave_ten_reports_an_index_of_ten_and_a_changed_byte_is_named(tmp_path):
    project = make_project(tmp_path / "project", healthy=True)
    # Two runs at a time: concurrent runs must take turns at the chain, never collide.
    for pair in range(5):
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "pytest", "--ops-config=ops.toml", "-q"],
                cwd=project,
                env=_child_env(project, fail=bool((pair + n) % 2)),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
            for n in range(2)
        ]
        codes = sorted(r.wait(timeout=120) for r in runs)
        assert codes[0] == 0 and codes[1] in FAILED_CHECKS, codes
    root = project / "reports"
    reports = sorted(root.glob("*/*.html"))
    assert len(reports) == 10
    page = (root / "index.html").read_text()
    assert page.count("<tr class='run'") == 10
    assert "store_mode <span class='badge'>flapping: 1</span>" in page
    assert verify(root).stdout.startswith("intact: 10 runs, 30 files, 10 chain entries")
    for victim in reports[::3]:
        content = victim.read_bytes()
        victim.write_bytes(content[:100] + bytes([content[100] ^ 0x20]) + content[101:])
        done = verify(root)
        assert done.returncode == 1
        assert done.stdout.startswith(
            f"NOT intact: {victim.relative_to(root).as_posix()} was changed"
        )
        victim.write_bytes(content)
    assert verify(root).returncode == 0
