"""tradeops's own modules load without pytest's assertion rewriting; tests still get it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.suite_runner import REPO
from tradeops import _unrewritten


def loader_of(module_name: str) -> str:
    return type(sys.modules[module_name].__spec__.loader).__name__


def test_the_package_loads_through_the_plain_source_loader_and_this_file_is_rewritten():
    assert loader_of("tradeops.verdict") == "SourceFileLoader"
    assert loader_of("tradeops.config") == "SourceFileLoader"
    assert loader_of(__name__) == "AssertionRewritingHook"


def test_so_too_under_python_m_pytest_from_the_checkout_where_pytest_marks_the_package():
    # The cron wrapper's form: with the checkout on sys.path pytest finds the editable
    # package and marks it for rewriting, which the bare `pytest` script does not.
    inner = test_the_package_loads_through_the_plain_source_loader_and_this_file_is_rewritten
    this = f"{Path(__file__).relative_to(REPO)}::{inner.__name__}"
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", this],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stdout + child.stderr
    assert "1 passed" in child.stdout


def test_unmark_takes_only_the_named_package_out_of_the_hooks_marked_names(
    monkeypatch, pytestconfig
):
    from _pytest.assertion.rewrite import AssertionRewritingHook

    hook = AssertionRewritingHook(pytestconfig)
    hook._must_rewrite = {"tradeops", "other_plugin"}
    monkeypatch.setattr(sys, "meta_path", [hook])
    _unrewritten.unmark()
    assert hook._must_rewrite == {"other_plugin"}
