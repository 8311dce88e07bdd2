"""The runbook lint, as functions over plain data (so a test can feed it bad data).

Each function returns a list of problems, one readable line each; [] is a pass.
- `kind_problems`: every check has a runbook, of the kind its severity requires;
- `orphan_problems`: every runbook is named by a check;
- `command_problems`: every five-step runbook gives a curl, a query and a VERIFY selection;
- `selection_problems`: every VERIFY selection collects at least one check (`selects`
  evaluates paths, `-m` and `-k` with pytest's own expression parser and matchers);
- `query_problems`: every query ran read-only and showed the fault on a scenario that
  targets the check (`run_query` runs one against a store file).
"""

from __future__ import annotations

import shlex
import sqlite3
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from _pytest.mark import KeywordMatcher, MarkMatcher
from _pytest.mark.expression import Expression
from _pytest.mark.structures import Mark

from tradeops.runbooks import KIND_FOR_SEVERITY, Runbook

SEVERITY_ORDER = ("P0", "P1", "P2", "P3")


@dataclass(frozen=True)
class CheckItem:
    """One collected check item, as tests/runbooks/_collect.py writes it."""

    nodeid: str
    check: str
    severity: str | None
    runbook: str | None
    keywords: frozenset[str] = frozenset()
    marks: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = ()

    @classmethod
    def from_json(cls, raw: dict) -> CheckItem:
        marks = tuple((name, tuple(sorted(kwargs.items()))) for name, kwargs in raw["marks"])
        return cls(
            raw["nodeid"], raw["check"], raw["severity"], raw["runbook"],
            frozenset(raw["keywords"]), marks,
        )  # fmt: skip


def most_severe(levels: Iterable[str]) -> str:
    return min(levels, key=SEVERITY_ORDER.index)


def kind_problems(items: list[CheckItem], books: Mapping[str, Runbook]) -> list[str]:
    """Each check names a runbook that exists, of the kind its most severe user requires."""
    problems = []
    levels: dict[str, set[str]] = {}
    for item in items:
        if item.severity not in KIND_FOR_SEVERITY:
            problems.append(f"{item.nodeid}: no severity P0-P3 (got {item.severity!r})")
            continue
        if not item.runbook:
            problems.append(f"{item.nodeid}: check {item.check} names no runbook")
        elif item.runbook not in books:
            problems.append(f"{item.nodeid}: runbook {item.runbook!r} does not exist")
        else:
            levels.setdefault(item.runbook, set()).add(item.severity)
    for rid, seen in sorted(levels.items()):
        wanted = KIND_FOR_SEVERITY[most_severe(seen)]
        if books[rid].kind != wanted:
            problems.append(
                f"runbook {rid}: is a {books[rid].kind}, but its checks are "
                f"{'/'.join(sorted(seen))}: a {most_severe(seen)} check needs {wanted}"
            )
    return sorted(set(problems))


def orphan_problems(items: list[CheckItem], books: Mapping[str, Runbook]) -> list[str]:
    named = {item.runbook for item in items}
    return [f"runbook {rid}: no check names it (orphaned)" for rid in books if rid not in named]


def command_problems(books: Mapping[str, Runbook]) -> list[str]:
    problems = []
    for rid, book in books.items():
        if book.kind != "steps":
            continue
        if not any(step.curl for step in book.steps):
            problems.append(f"runbook {rid}: no step gives the curl of an endpoint")
        if not book.queries:
            problems.append(f"runbook {rid}: no step gives a read-only sqlite3 query")
        if not book.steps[3].pytest:
            problems.append(f"runbook {rid}: VERIFY gives no pytest selection")
    return problems


def selects(selection: str, items: list[CheckItem]) -> list[str]:
    """The nodeids `pytest <selection>` collects from these items (paths, -m, -k)."""
    words = shlex.split(selection)
    paths, mark_expr, key_expr = [], None, None
    while words:
        word = words.pop(0)
        if word == "-m" and words:
            mark_expr = Expression.compile(words.pop(0))
        elif word == "-k" and words:
            key_expr = Expression.compile(words.pop(0))
        elif word.startswith("-"):
            raise ValueError(f"selection {selection!r}: option {word} is not understood")
        else:
            paths.append(word.rstrip("/"))
    chosen = []
    for item in items:
        if paths and not any(item.nodeid == p or item.nodeid.startswith(p + "/") for p in paths):
            continue
        marks = [Mark(name, (), dict(kwargs), _ispytest=True) for name, kwargs in item.marks]
        if mark_expr is not None and not mark_expr.evaluate(MarkMatcher.from_markers(marks)):
            continue
        if key_expr is not None and not key_expr.evaluate(KeywordMatcher(set(item.keywords))):
            continue
        chosen.append(item.nodeid)
    return chosen


def selection_problems(books: Mapping[str, Runbook], items: list[CheckItem]) -> list[str]:
    problems = []
    for rid, book in books.items():
        for selection in book.selections:
            try:
                found = selects(selection, items)
            except (ValueError, SyntaxError) as exc:  # pytest's ParseError is a SyntaxError
                problems.append(f"runbook {rid}: VERIFY `pytest {selection}`: {exc}")
                continue
            if not found:
                problems.append(f"runbook {rid}: VERIFY `pytest {selection}` selects no check")
    return problems


def run_query(store: Path, sql: str) -> int | str:
    """Rows the query returns on the store opened read-only, or the error's text."""
    uri = "file:" + urllib.parse.quote(str(store.resolve())) + "?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=2.0)
    except sqlite3.Error as exc:
        return f"cannot open {store}: {exc}"
    try:
        conn.execute("PRAGMA query_only=1")
        return len(conn.execute(sql).fetchall())
    except sqlite3.Error as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()


# (runbook id, role, sql) -> scenario -> rows or error text
QueryResults = Mapping[tuple[str, str, str], Mapping[str, int | str]]


def query_problems(
    books: Mapping[str, Runbook], targets: Mapping[str, list[str]], results: QueryResults
) -> list[str]:
    """Every query ran everywhere it was tried; on a scenario that targets the runbook's
    checks it returned rows; a fault query (`sql`) returned none on `healthy`."""
    problems = []
    for rid, book in books.items():
        for role, sql in book.queries:
            seen = results.get((rid, role, sql), {})
            head = f"runbook {rid}: {role} {sql.strip().splitlines()[0][:60]!r}"
            errors = {s: r for s, r in seen.items() if isinstance(r, str)}
            if not seen:
                problems.append(f"{head}: never run")
            for scenario, error in errors.items():
                problems.append(f"{head}: does not run on {scenario}: {error}")
            if errors:
                continue
            wanted = targets.get(rid, [])
            if wanted and not any(seen.get(s, 0) > 0 for s in wanted):
                problems.append(f"{head}: returns no rows on {', '.join(wanted)}")
            if role == "sql" and seen.get("healthy", 0) > 0:
                problems.append(f"{head}: returns rows on healthy: it does not show the fault")
    return problems
