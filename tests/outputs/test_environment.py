"""The report's provenance: the suite's commit as git tells it, or why it is unknown."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tradeops.outputs._environment import git_commit

GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@localhost",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@localhost",
}


def git(where: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(where), *args], env=GIT_ENV, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "ops.toml").write_text("a = 1\n")
    git(tmp_path, "add", "ops.toml")
    git(tmp_path, "commit", "-q", "-m", "one")
    return tmp_path


def test_a_clean_checkout_is_its_commit(checkout):
    assert git_commit(checkout) == git(checkout, "rev-parse", "HEAD")


def test_a_changed_tracked_file_marks_it_dirty_an_untracked_one_does_not(checkout):
    head = git(checkout, "rev-parse", "HEAD")
    (checkout / "notes.txt").write_text("scratch\n")
    assert git_commit(checkout) == head
    (checkout / "ops.toml").write_text("a = 2\n")
    assert git_commit(checkout) == head + "+dirty"


def test_a_staged_change_is_dirty_too(checkout):
    (checkout / "ops.toml").write_text("a = 3\n")
    git(checkout, "add", "ops.toml")
    assert git_commit(checkout).endswith("+dirty")


def test_no_checkout_and_no_commit_say_so(tmp_path):
    assert git_commit(tmp_path) == "unknown (not a git checkout)"
    git(tmp_path, "init", "-q")
    assert git_commit(tmp_path) == "unknown (no commit yet)"


def test_reading_it_changes_nothing_in_the_checkout(checkout):
    index = checkout / ".git" / "index"
    before = index.stat().st_mtime_ns
    (checkout / "ops.toml").touch()  # stat data differs: a refresh would rewrite the index
    git_commit(checkout)
    assert index.stat().st_mtime_ns == before
