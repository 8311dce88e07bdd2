"""The index is kept up to date run by run from the chain's tail; a rebuild agrees with it."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

from tests.reports.fakes import T0, record_run
from tradeops.reports import chain, index


def refresh(root, keep_days=None) -> str:
    with chain.locked(root):
        return index.write_index(root, keep_days).read_text()


def test_the_chain_tail_gives_the_last_entries_without_reading_the_rest(tmp_path):
    added = [record_run(tmp_path, T0 + timedelta(minutes=i)) for i in range(30)]
    assert chain.tail(tmp_path, 1) == added[-1:]
    assert chain.tail(tmp_path, 7) == added[-7:]
    assert chain.tail(tmp_path, 100) == added
    assert chain.tail(tmp_path / "nowhere", 3) == []


def test_appending_after_the_tail_keeps_the_chain_intact(tmp_path):
    for i in range(5):
        record_run(tmp_path, T0 + timedelta(minutes=i))
    entries = chain.read_entries(tmp_path)
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert all(e["prev"] == p["hash"] for p, e in itertools.pairwise(entries))
    assert chain.verify(tmp_path).intact


def test_an_index_kept_run_by_run_is_the_index_rebuilt_from_the_whole_chain(tmp_path, monkeypatch):
    monkeypatch.setattr(index, "WINDOW", 5)
    monkeypatch.setattr(index, "PAGE", 4)
    for i in range(17):
        failing = {"wal_mode": "failed" if i % 3 == 0 else "passed"}
        record_run(tmp_path, T0 + timedelta(minutes=i), failing)
        incremental = refresh(tmp_path)
    pages = sorted((tmp_path / "index").glob("runs-*.html"))
    kept = {p.name: p.read_text() for p in pages}
    (tmp_path / index.STATE_NAME).unlink()  # no state: the next refresh rebuilds
    assert refresh(tmp_path) == incremental
    assert {p.name: p.read_text() for p in sorted((tmp_path / "index").glob("*.html"))} == kept
    # 17 runs: 5 on the index, 12 on three pages of 4 (the newest page still filling).
    assert incremental.count("<tr class='run'") == 5
    assert [p.name for p in pages] == ["runs-000001.html", "runs-000002.html", "runs-000003.html"]
    assert all(p.read_text().count("<tr class='run'") == 4 for p in pages)
    assert re.findall(r"href='(index/runs-\d+\.html)'", incremental) == [
        "index/runs-000003.html",
        "index/runs-000002.html",
        "index/runs-000001.html",
    ]


def test_a_state_that_does_not_match_the_chain_is_rebuilt_not_trusted(tmp_path):
    record_run(tmp_path, T0)
    refresh(tmp_path)
    state = tmp_path / index.STATE_NAME
    state.write_text(
        state.read_text()
        .replace('"live":1', '"live":99')
        .replace(chain.tail(tmp_path)[0]["hash"], "f" * 64)
    )
    page = refresh(tmp_path)
    assert "1 kept runs" in page


def test_a_pruned_run_stays_listed_without_its_link(tmp_path):
    record_run(tmp_path, T0)
    record_run(tmp_path, T0 + timedelta(days=30))
    refresh(tmp_path)
    with chain.locked(tmp_path):
        chain.prune(tmp_path, keep_days=10, now=T0 + timedelta(days=31))
    page = refresh(tmp_path, keep_days=10)
    assert "1 kept runs, kept 10 days" in page
    assert page.count("(pruned)") == 1 and page.count(">report</a>") == 1


def test_the_latest_banner_is_the_real_platforms_newest_run_not_a_newer_drill(tmp_path):
    record_run(tmp_path, T0, {"wal_mode": "passed"})
    record_run(tmp_path, T0 + timedelta(hours=1), {"wal_mode": "failed"}, scenario="wal-off")
    page = refresh(tmp_path)
    assert "id='latest'>Latest: GREEN, preflight at 2026-11-20 09:00:00Z" in page
