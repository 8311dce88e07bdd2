"""What the runbook lint reads: the suite's checks as one `--collect-only` run collects
them against the sandbox, and each runbook query's rows on the scenarios that target it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runbooks._collect import OUT_ENV
from tests.runbooks._lint import CheckItem, QueryResults, run_query
from tests.runbooks._sandbox import sandbox_class
from tests.suite_runner import REPO
from tradeops.runbooks import RUNBOOKS
from tradeops.sandbox.scenarios import SCENARIOS

COLLECT_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def collected(tmp_path_factory: pytest.TempPathFactory) -> list[CheckItem]:
    """Every check item of `pytest checks slo --sandbox --collect-only` (one child run; the
    gate is named so that it is collected too)."""
    out = tmp_path_factory.mktemp("collect") / "items.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRADEOPS_", "PYTEST_"))}
    env[OUT_ENV] = str(out)
    env["TRADEOPS_CACHE"] = os.environ.get("TRADEOPS_CACHE", "")
    if not env["TRADEOPS_CACHE"]:
        del env["TRADEOPS_CACHE"]
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:randomly"]
    command += [
        "-p",
        "tests.runbooks._collect",
        "--sandbox=healthy",
        "checks",
        "slo",
        "slo/test_promote_gate.py",
    ]
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True,
        timeout=COLLECT_TIMEOUT_S, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert out.is_file(), f"collection wrote nothing:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    items = [CheckItem.from_json(raw) for raw in json.loads(out.read_text())]
    assert items, "collection found no check"
    return items


@pytest.fixture(scope="session")
def targets(collected: list[CheckItem]) -> dict[str, list[str]]:
    """runbook id -> the scenarios that target one of the checks naming it."""
    book_of = {item.check: item.runbook for item in collected}
    found: dict[str, list[str]] = {}
    for scenario in SCENARIOS.values():
        for check in scenario.failing_checks:
            rid = book_of.get(check)
            if rid and scenario.name not in found.setdefault(rid, []):
                found[rid].append(scenario.name)
    return found


@pytest.fixture(scope="session")
def query_results(targets: dict[str, list[str]]) -> Iterator[QueryResults]:
    """Each runbook query run on healthy and on every scenario targeting its runbook."""
    wanted: dict[str, set[tuple[str, str, str]]] = {"healthy": set()}
    for rid, book in RUNBOOKS.items():
        for role, sql in book.queries:
            key = (rid, role, sql)
            wanted["healthy"].add(key)
            for scenario in targets.get(rid, []):
                wanted.setdefault(scenario, set()).add(key)
    results: dict[tuple[str, str, str], dict[str, int | str]] = {}
    sandbox = sandbox_class()
    for scenario, keys in wanted.items():
        with sandbox(scenario) as running:
            store = Path(running.directory) / "events.sqlite"
            for key in sorted(keys):
                results.setdefault(key, {})[scenario] = run_query(store, key[2])
    yield results
