"""The index lists every run newest first with a per-check trend; names never collide."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.reports.fakes import T0, record_run, record_runs
from tradeops.reports import chain, index, paths


class Rows(HTMLParser):
    """The text of every table row, by the table's id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id")
            self.tables[self._table or ""] = []
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._row:
            self._row[-1] += data


def tables(root: Path) -> dict[str, list[list[str]]]:
    """Regenerate the index; its tables' rows as text."""
    with chain.locked(root):
        page = index.write_index(root, keep_days=365).read_text()
    parser = Rows()
    parser.feed(page)
    return parser.tables


def test_the_index_lists_every_run_newest_first_with_verdict_and_severity(tmp_path):
    record_runs(tmp_path, 9)
    record_run(tmp_path, T0 + timedelta(hours=9), {"wal_mode": "failed"}, kind="full")
    runs = tables(tmp_path)["runs"]
    header, rows = runs[0], runs[1:]
    assert header == [
        "Time (UTC)",
        "Platform",
        "Kind",
        "Scenario",
        "Verdict",
        "Highest severity",
        "Judged/selected",
        "Passed",
        "Failed",
        "Errors",
        "Skipped",
        "Report",
    ]
    assert len(rows) == 10
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), reverse=True)
    assert rows[0][0] == "2026-11-20 18:00:00Z"
    assert rows[0][1:8] == ["http://127.0.0.1:8080", "full", "", "RED", "P1", "1/1", "0"]
    assert rows[1][2:8] == ["preflight", "", "GREEN", "-", "1/1", "1"]


def test_every_index_link_opens_a_kept_report(tmp_path):
    record_runs(tmp_path, 3)
    with chain.locked(tmp_path):
        page = index.write_index(tmp_path).read_text()
    links = re.findall(r"href='([^']+)'", page)
    assert len(links) == 3
    assert all((tmp_path / link).is_file() and link.endswith(".html") for link in links)


def test_a_flapping_check_is_marked_and_listed_first(tmp_path):
    pattern = ["passed", "failed", "passed", "failed", "passed"]
    for i, outcome in enumerate(pattern):
        record_run(
            tmp_path,
            T0 + timedelta(hours=i),
            {"wal_mode": "passed", "control_summary": outcome, "residual_runs": "skipped"},
        )
    trend = tables(tmp_path)["trend"]
    header, first = trend[0], trend[1]
    assert header[1:3] == ["11-2009:00", "11-2010:00"]  # real times, not run numbers
    assert first[0] == "control_summary flapping: 1"
    assert first[1:6] == ["\u2713", "P1", "\u2713", "P1", "\u2713"]
    assert first[6:] == ["3", "2", "1"]  # passes, failures, flapping subjects
    steady = {row[0]: row[6:] for row in trend[2:]}
    assert steady == {"wal_mode": ["5", "0", "0"], "residual_runs": ["0", "0", "0"]}


def test_sandbox_drills_never_count_as_flapping_on_the_real_platform(tmp_path):
    for i, outcome in enumerate(["passed", "failed", "passed", "failed"]):
        record_run(tmp_path, T0 + timedelta(hours=i), {"wal_mode": outcome}, scenario="wal-off")
    record_run(tmp_path, T0 + timedelta(hours=5), {"wal_mode": "passed"})
    found = tables(tmp_path)
    assert [row[0] for row in found["trend"][1:]] == ["wal_mode"]
    assert found["trend"][1][1:] == ["\u2713", "1", "0", "0"]
    assert found["trend-drills"][1][0] == "wal_mode"  # listed apart, no flapping badge
    assert found["runs"][1][3] == "" and found["runs"][2][3] == "wal-off"


def test_a_check_with_many_subjects_is_one_row_listing_only_the_subjects_that_failed(tmp_path):
    for i in range(3):
        outcomes = {f"heartbeat_fresh[s{n}]": "passed" for n in range(50)}
        outcomes["heartbeat_fresh[s7]"] = "failed" if i == 2 else "passed"
        record_run(tmp_path, T0 + timedelta(hours=i), outcomes, kind="full")
    trend = tables(tmp_path)["trend"]
    assert trend[1][:4] == ["heartbeat_fresh (50 subjects)", "\u2713", "\u2713", "P1"]
    assert trend[2][0].strip() == "heartbeat_fresh[s7]"
    assert trend[3][0].strip() == "49 more subject(s) never failed in this window"
    assert len(trend) == 4


def test_trend_rows_line_up_when_checks_come_and_go():
    columns = [
        {"cells": {"a": ["passed", None]}},
        {"cells": {}},
        {"cells": {"a": ["failed", "P1"], "b": ["passed", None]}},
    ]
    rows = index.trend(columns)
    cells = {row.check: [c[0] if c else None for c in row.cells] for row in rows}
    assert cells == {"a": ["passed", None, "failed"], "b": [None, None, "passed"]}


def test_check_names_are_escaped_in_the_index(tmp_path):
    record_run(tmp_path, T0, {"wal_mode[<script>alert(1)</script>]": "failed"})
    with chain.locked(tmp_path):
        page = index.write_index(tmp_path).read_text()
    assert "<script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    ("markexpr", "args", "kind"),
    [
        ("preflight", ["checks"], "preflight"),
        ("promote_gate", [], "promote-gate"),
        ("slo and not preflight", [], "slo"),
        ("not preflight", ["checks"], "full"),
        ("", ["slo"], "slo"),
        ("", ["slo/test_x.py::test_y"], "slo"),
        ("", ["checks", "slo"], "full"),
        ("", [], "full"),
    ],
)
def test_the_report_kind_follows_markers_then_paths(tmp_path, markexpr, args, kind):
    (tmp_path / "slo").mkdir()
    assert paths.report_kind(markexpr, args, tmp_path, tmp_path) == kind


def test_reserved_names_in_the_same_second_never_collide(tmp_path):
    reserved = [paths.reserve(tmp_path, "preflight", T0) for _ in range(50)]
    assert len({r.html for r in reserved}) == 50
    assert all(r.html.exists() and r.html.stat().st_size == 0 for r in reserved)
    name = reserved[0].html.relative_to(tmp_path).as_posix()
    assert paths.REPORT_NAME.match(name), name
    assert name.startswith("2026-11-20/preflight-20261120T090000Z-")


def test_the_reports_root_is_the_option_then_the_manifest_then_rootdir(tmp_path):
    manifest = tmp_path / "etc" / "ops.toml"
    assert paths.reports_root(str(tmp_path / "x"), "y", manifest, tmp_path) == tmp_path / "x"
    assert paths.reports_root(None, "y", manifest, tmp_path) == tmp_path / "etc" / "y"
    assert paths.reports_root(None, None, manifest, tmp_path) == tmp_path / "reports"
