"""A pytest plugin for one `--collect-only` run: writes every collected check as JSON.

Loaded with `-p tests.runbooks._collect`; the file named by $TRADEOPS_COLLECT_OUT gets one
record per item: nodeid, check key, severity, runbook, the names `-k` matches and the marks
`-m` matches (read with pytest's own KeywordMatcher, so the lint's `-k` is pytest's).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from _pytest.mark import KeywordMatcher

OUT_ENV = "TRADEOPS_COLLECT_OUT"


def _check_key(item) -> str:
    name = (getattr(item, "originalname", None) or item.name.split("[")[0]).removeprefix("test_")
    callspec = getattr(item, "callspec", None)
    # The SLO checks are one function parametrized by SLO; the scenario table names them
    # slo[<name>]. Layer 2/3 checks are parametrized by subject and stay one check.
    return f"{name}[{callspec.id}]" if name == "slo" and callspec else name


def _level(item, marker: str, key: str) -> str | None:
    mark = item.get_closest_marker(marker)
    if mark is None:
        return None
    return mark.kwargs.get(key) or (mark.args[0] if mark.args else None)


def pytest_collection_finish(session) -> None:
    out = os.environ.get(OUT_ENV)
    if not out:
        return
    records = [
        {
            "nodeid": item.nodeid,
            "check": _check_key(item),
            "severity": _level(item, "severity", "level"),
            "runbook": _level(item, "runbook", "id"),
            "keywords": sorted(KeywordMatcher.from_item(item)._names),
            "marks": [[m.name, dict(m.kwargs)] for m in item.iter_markers()],
        }
        for item in session.items
    ]
    Path(out).write_text(json.dumps(records, default=str))
