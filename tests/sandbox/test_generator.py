"""The sandbox's data: a store in the contract's exact schema, a ledger that matches it, faults
exactly where the notes say and nothing else broken, and a history cache that changes nothing."""

from __future__ import annotations

import calendar
import itertools
import json
import multiprocessing
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.sandbox._store_facts import INVARIANTS, Facts
from tradeops.config import PortfolioConfig
from tradeops.sandbox.store.generator import StoreParams, build_platform_data, cache_key

NOW = calendar.timegm((2026, 11, 25, 10, 30, 0)) * 1000  # a Wednesday, 10:30 UTC
SMALL = StoreParams(days=3, strategies=9)  # Mon + Tue of history, nine live runs
WEEK = StoreParams(days=8, strategies=9, heartbeat_interval_s=60)  # six weekdays of history
CONTRACT_DDL = """
CREATE TABLE events (
  seq INTEGER PRIMARY KEY, ts INTEGER NOT NULL, type TEXT NOT NULL, run_id TEXT,
  run_seq INTEGER, strategy_id TEXT, instrument TEXT, account_id TEXT,
  payload TEXT NOT NULL DEFAULT '{}');
CREATE INDEX events_ts      ON events(ts);
CREATE INDEX events_type_ts ON events(type, ts);
CREATE INDEX events_run     ON events(run_id, run_seq);
"""

Build = Callable[..., Facts]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Build]:
    """Builds (once per module) the store for a set of faults, without a cache."""
    built: dict[tuple, Facts] = {}

    def _build(*faults: str, params: StoreParams = SMALL) -> Facts:
        key = (frozenset(faults), params)
        if key not in built:
            directory = tmp_path_factory.mktemp("store")
            result = build_platform_data(directory, params, frozenset(faults), NOW, None)
            built[key] = Facts(result, NOW)
        return built[key]

    yield _build
    for facts in built.values():
        facts.close()


def _schema(con: sqlite3.Connection) -> tuple:
    columns = con.execute("PRAGMA table_info(events)").fetchall()
    indexes = sorted(row[1:] for row in con.execute("PRAGMA index_list(events)"))
    parts = {name: con.execute(f"PRAGMA index_info({name})").fetchall() for name, *_ in indexes}
    return columns, indexes, parts


def test_the_store_has_the_contract_schema_exactly(build: Build) -> None:
    contract = sqlite3.connect(":memory:")
    contract.executescript(CONTRACT_DDL)
    assert _schema(build().con) == _schema(contract)


@pytest.mark.parametrize("invariant", INVARIANTS)
def test_a_healthy_build_holds_every_invariant(build: Build, invariant: str) -> None:
    # order: seq follows ts; gap: run_seq contiguous; fill_mismatch: every ORDER_FILLED is
    # the ledger's ORDER_FILL (id, units, instrument, account); ... see _store_facts.
    assert not build().broken(invariant)


def test_every_fill_is_a_broker_fill_and_positions_are_real(build: Build) -> None:
    facts = build()
    store, broker = facts.net_positions()
    fills = facts.events("ORDER_FILLED")
    assert len(fills) == len(facts.ledger_fills()) > 50
    assert store == broker and len(broker) >= 4  # open trades at now: a non-trivial book
    assert all(facts.closeout(a) < 0.1 for a in facts.accounts)


def test_a_healthy_platform_of_600_strategies_holds_each_account_well_within_its_exposure(
    build: Build,
) -> None:
    # 200 strategies an account on three pairs: drawn sides added up to 3.4x NAV of EUR at
    # 300 strategies, a false currency_exposure alarm on the healthy sandbox.
    facts = build(params=StoreParams(days=1, strategies=600, heartbeat_interval_s=600))
    worst = {a: max(facts.exposure_in_navs(a).values()) for a in facts.accounts}
    assert max(worst.values()) < PortfolioConfig().max_currency_exposure / 2, worst
    store, broker = facts.net_positions()
    assert store == broker and len(broker) >= 6


def test_every_scheduled_strategy_runs_now_with_fresh_heartbeats(build: Build) -> None:
    facts = build()
    live = facts.live_runs()
    listed = {r["run_id"]: r for r in facts.result.live_runs}
    scheduled = {s["strategy_id"] for s in facts.strategies if s["scheduled"]}
    assert set(live) == set(listed) and {r["strategy"] for r in live.values()} == scheduled
    for run_id, run in live.items():
        assert abs(run["start"] - (NOW - SMALL.live_minutes * 60_000)) < 5_000
        assert NOW - run["interval_ms"] < run["last_hb"] <= NOW
        assert listed[run_id]["heartbeats"] is True


def test_yesterdays_session_ended_and_a_stall_in_history_was_detected(build: Build) -> None:
    facts = build()
    runs = facts.runs()
    previous = [r for k, r in runs.items() if k.startswith("r-20261124-")]
    assert len(previous) == 9 and all(r["status"] == "completed" for r in previous)
    assert facts.result.notes["previous_session"] == "2026-11-24"
    # One history run paused and the platform's detector fired (checked by "stall").
    stalled = facts.result.notes["history_stalls"]
    assert stalled and {e[2] for e in facts.events("STALE_DETECTED")} == set(stalled)


def test_backtests_match_the_paper_trading(build: Build) -> None:
    facts = build()
    for s in facts.strategies:
        paper = facts.paper(s["strategy_id"])
        assert paper["trades_per_day"] == pytest.approx(s["backtest"]["trades_per_day"], abs=0.01)
        assert paper["win_rate"] == pytest.approx(s["backtest"]["win_rate"], abs=0.001)


def test_stale_run_stops_heartbeating_and_the_detector_fires(build: Build) -> None:
    facts = build("stale_run")
    run_id = facts.result.notes["stale_run"]
    run = facts.live_runs()[run_id]
    assert NOW - 300_000 - run["interval_ms"] < run["last_hb"] <= NOW - 300_000
    [(_, ts, *_, payload)] = [e for e in facts.events("STALE_DETECTED") if e[2] == run_id]
    assert payload["last_heartbeat_ts"] == run["last_hb"]
    assert ts == run["last_hb"] + 3 * run["interval_ms"] + 10_000
    assert next(r for r in facts.result.live_runs if not r["heartbeats"])["run_id"] == run_id
    assert facts.problems() == {"stale"}


def test_stale_undetected_has_no_detection(build: Build) -> None:
    facts = build("stale_undetected")
    run_id = facts.result.notes["stale_undetected"]
    assert NOW - facts.live_runs()[run_id]["last_hb"] >= 300_000
    assert run_id not in {e[2] for e in facts.events("STALE_DETECTED")}
    assert facts.problems() == {"stale"}


def test_sequence_gap_is_one_hole_where_the_notes_say(build: Build) -> None:
    facts = build("sequence_gap")
    gap = facts.result.notes["gap"]
    seqs = [
        rs for (rs,) in facts.rows("SELECT run_seq FROM events WHERE run_id = ?", gap["run_id"])
    ]
    missing = set(range(1, max(seqs) + 1)) - set(seqs)
    assert missing == {gap["missing_run_seq"]} and 1 < gap["missing_run_seq"] < max(seqs)
    [(after,)] = facts.rows(
        "SELECT run_seq FROM events WHERE seq = ? AND run_id = ?", gap["seq_after"], gap["run_id"]
    )
    assert after == gap["missing_run_seq"] + 1
    assert facts.problems() == {"gap"}


def test_wal_off_leaves_the_store_in_rollback_journal_mode(build: Build) -> None:
    facts = build("wal_off")
    assert facts.rows("PRAGMA journal_mode") == [("delete",)]
    assert not Path(f"{facts.result.store}-wal").exists()
    assert facts.problems() == {"wal"}


def test_residual_run_is_yesterdays_run_without_an_end(build: Build) -> None:
    facts = build("residual_run")
    run_id = facts.result.notes["residual_run"]
    assert run_id.startswith("r-20261124-") and facts.runs()[run_id]["status"] is None
    assert facts.problems() == {"residual"}


@pytest.mark.parametrize(
    ("fault", "note", "problem"),
    [
        ("pending_gate", "pending_gate", "pending_gate"),
        ("unresolved_alert", "alert", "unresolved_alert"),
    ],
)
def test_open_gate_and_alert_belong_to_a_scheduled_strategy(
    build: Build, fault: str, note: str, problem: str
) -> None:
    facts = build(fault)
    where = facts.result.notes[note]
    scheduled = {s["strategy_id"] for s in facts.strategies if s["scheduled"]}
    asked = facts.events("PROMOTE_REQUESTED" if fault == "pending_gate" else "RECONCILIATION_ALERT")
    [(_, ts, *_, _sid, _, _, payload)] = [e for e in asked if e[4] == where["strategy_id"]][-1:]
    assert where["strategy_id"] in scheduled and NOW - 3_600_000 < ts <= NOW
    assert payload.get("gate_id", payload.get("alert_id")) in where.values()
    assert facts.problems() == {problem}


def test_fill_units_wrong_records_ten_times_the_broker_units(build: Build) -> None:
    facts = build("fill_units_wrong")
    wrong = facts.result.notes["divergent"]
    [(units, account, instrument)] = facts.rows(
        "SELECT json_extract(payload, '$.units'), account_id, instrument FROM events WHERE seq = ?",
        wrong["seq"],
    )
    assert units == 10 * wrong["broker_units"] == wrong["store_units"]
    assert (account, instrument) == (wrong["account_id"], wrong["instrument"])
    store, broker = facts.net_positions()
    key = (account, instrument)
    assert store[key] - broker[key] == 9 * wrong["broker_units"]
    assert facts.problems() == {"positions", "fill_mismatch"}


def test_fills_missing_drops_about_two_percent_of_the_weeks_fills(build: Build) -> None:
    facts = build("fills_missing")
    missing = {tuple(t) for t in facts.result.notes["fills_missing"]["transactions"]}
    stored = {(e[6], e[7]["broker_transaction_id"]) for e in facts.events("ORDER_FILLED")}
    week = {k for k, tx in facts.ledger_fills().items() if tx["time_ms"] >= NOW - 7 * 86_400_000}
    assert missing == set(facts.ledger_fills()) - stored
    assert 0.01 < len(missing) / len(week) < 0.05 and len(missing) % 2 == 0  # whole trades
    assert facts.problems() == {"fills_missing"}


def test_tracking_drift_trades_far_from_its_backtest(build: Build) -> None:
    facts = build("tracking_drift")
    strategy_id = facts.result.notes["tracking_drift"]["strategy_id"]
    backtest = next(s["backtest"] for s in facts.strategies if s["strategy_id"] == strategy_id)
    paper = facts.paper(strategy_id)
    assert paper["trades_per_day"] > 2 * backtest["trades_per_day"]
    assert paper["win_rate"] < backtest["win_rate"] - 0.2
    assert facts.problems() == {"tracking"}


def test_drawdown_takes_one_account_twelve_percent_below_its_peak(build: Build) -> None:
    facts = build("drawdown", params=WEEK)
    account = facts.result.notes["drawdown"]["account_id"]
    assert facts.drawdown(account) == pytest.approx(0.12, abs=0.01)
    snaps = [
        (ts, p["balance"]) for _, ts, *_, a, p in facts.events("ACCOUNT_SNAPSHOT") if a == account
    ]
    days: dict[int, list[float]] = {}
    for ts, balance in snaps:
        days.setdefault(ts // 86_400_000, []).append(balance)
    closes = [b[-1] for _, b in sorted(days.items())]
    worst = max((a - b) / a for a, b in itertools.pairwise(closes))
    assert worst < 0.035  # spread over days, never one crash
    assert facts.problems() == {"drawdown"}


def test_margin_rate_raised_brings_closeout_near_one(build: Build) -> None:
    facts = build("margin_rate_raised")
    where = facts.result.notes["margin_rate_raised"]
    assert facts.closeout(where["account_id"]) == pytest.approx(0.85, abs=0.01)
    others = [a for a in facts.accounts if a != where["account_id"]]
    assert all(facts.closeout(a) < 0.1 for a in others)
    assert facts.problems() == {"margin"}


def test_runs_failing_fails_about_five_percent_of_the_months_runs(build: Build) -> None:
    facts = build("runs_failing")
    ended = [r for r in facts.runs().values() if r["status"]]
    failed = {k for k, r in facts.runs().items() if r["status"] == "failed"}
    assert failed == set(facts.result.notes["failed_runs"])
    assert 0.03 <= len(failed) / len(ended) <= 0.08
    assert facts.problems() == {"failed_runs"}


def test_faults_of_other_parts_change_nothing(build: Build) -> None:
    assert build("broker_down", "summary_lies").problems() == set()


def test_the_same_day_builds_the_same_history(tmp_path: Path) -> None:
    params = StoreParams(days=3, strategies=3, heartbeat_interval_s=60)
    a = build_platform_data(tmp_path / "a", params, frozenset(), NOW, None)
    b = build_platform_data(tmp_path / "b", params, frozenset(), NOW + 3_600_000, tmp_path / "c")
    c = build_platform_data(tmp_path / "d", params, frozenset(), NOW + 7_200_000, tmp_path / "c")
    assert a.notes["history_events"] == b.notes["history_events"] == c.notes["history_events"]
    histories = [_history(r.store, r.notes["history_events"]) for r in (a, b, c)]
    assert histories[0] == histories[1] == histories[2]
    assert len([p for p in (tmp_path / "c").iterdir() if p.is_dir()]) == 1  # one entry, reused
    assert a.strategies.read_text() == c.strategies.read_text()
    first = Facts(c, NOW + 7_200_000)
    assert first.problems() == set()  # the live part appended to a cached copy is sound
    first.close()


def _history(store: Path, count: int) -> list[tuple]:
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as con:
        return con.execute("SELECT * FROM events WHERE seq <= ? ORDER BY seq", (count,)).fetchall()


def _build_in_child(directory: str, cache: str) -> int:
    params = StoreParams(days=3, strategies=3, heartbeat_interval_s=60)
    return build_platform_data(Path(directory), params, frozenset(), NOW, Path(cache)).events


def test_two_concurrent_builders_share_one_cache_entry(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        jobs = [(str(tmp_path / f"s{i}"), str(tmp_path / "cache")) for i in range(2)]
        counts = pool.starmap(_build_in_child, jobs, chunksize=1)
    assert counts[0] == counts[1] > 0
    params = StoreParams(days=3, strategies=3, heartbeat_interval_s=60)
    entries = [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    assert [p.name for p in entries] == [
        cache_key(params, frozenset(), NOW // 86_400_000 * 86_400_000)
    ]
    assert json.loads((entries[0] / "state.json").read_text())["events"] > 0


def test_parameters_out_of_range_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="session_hours"):
        StoreParams(session_hours=20)
    with pytest.raises(ValueError, match="live_minutes"):
        StoreParams(live_minutes=0)
    # A live session reaching back into yesterday's would put time out of order.
    reaching = StoreParams(days=3, strategies=3, heartbeat_interval_s=60, live_minutes=20 * 60)
    with pytest.raises(ValueError, match="previous session"):
        build_platform_data(tmp_path, reaching, frozenset(), NOW)
