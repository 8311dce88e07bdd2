"""The generator's schema, ordering and money faults: each exactly where the notes say, the rest
of the store and ledger as a healthy platform's (test_generator.py covers the older faults)."""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from tests.sandbox._store_facts import Facts
from tradeops.sandbox.scenarios import ACCOUNTS
from tradeops.sandbox.store._books import Books, Trade
from tradeops.sandbox.store._live_faults import BIG_MAX_EXPOSURE, GAP_LOSS, size_big_position
from tradeops.sandbox.store.generator import StoreParams, build_platform_data
from tradeops.sandbox.store.model import MONEY, PAIR_BY_NAME

NOW = calendar.timegm((2026, 11, 25, 10, 30, 0)) * 1000  # a Wednesday, 10:30 UTC
TODAY = NOW // 86_400_000 * 86_400_000
SMALL = StoreParams(days=3, strategies=9)
BIG_ACCOUNT = ACCOUNTS[0]

Build = Callable[..., Facts]


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Build]:
    """Builds (once per module) the store for a set of faults; the history is cached."""
    built: dict[frozenset[str], Facts] = {}
    cache = tmp_path_factory.mktemp("cache")

    def _build(*faults: str) -> Facts:
        key = frozenset(faults)
        if key not in built:
            directory = tmp_path_factory.mktemp("store")
            built[key] = Facts(build_platform_data(directory, SMALL, key, NOW, cache), NOW)
        return built[key]

    yield _build
    for facts in built.values():
        facts.close()


def test_index_dropped_removes_events_type_ts_and_nothing_else(build: Build) -> None:
    facts = build("index_dropped")
    assert facts.result.notes["index_dropped"] == {"index": "events_type_ts"}
    indexes = {name for _, name, *_ in facts.rows("PRAGMA index_list(events)")}
    assert indexes == {"events_ts", "events_run"}
    assert facts.rows("PRAGMA journal_mode") == [("wal",)]
    assert facts.problems() == {"schema"}


def test_ts_backwards_appends_three_clean_reconciliations_ten_minutes_late(build: Build) -> None:
    facts = build("ts_backwards")
    seqs = facts.result.notes["ts_backwards"]["seqs"]
    late = facts.rows(
        "SELECT seq, ts, type, run_id, account_id, payload FROM events WHERE seq IN (?, ?, ?)"
        " ORDER BY seq",
        *seqs,
    )
    assert [seq for seq, *_ in late] == seqs == list(range(seqs[0], seqs[0] + 3))
    assert {(kind, run) for _, _, kind, run, _, _ in late} == {("RECONCILIATION", None)}
    assert sorted(account for *_, account, _ in late) == sorted(facts.accounts)
    assert all(json.loads(p) == {"divergent": False, "instruments": []} for *_, p in late)
    assert all(NOW - 600_000 <= ts < NOW - 590_000 for _, ts, *_ in late)
    # Appended after events ~10 minutes newer, and the platform kept writing after them:
    # the newest event is fresh, so only the order is wrong, not the write rate.
    [(before,)] = facts.rows("SELECT max(ts) FROM events WHERE seq < ?", seqs[0])
    [(newest,)] = facts.rows("SELECT ts FROM events ORDER BY seq DESC LIMIT 1")
    assert before - late[0][1] > 500_000 and NOW - newest < 10_000
    assert facts.problems() == {"order"}


def test_pnl_misrecorded_stores_one_of_todays_closes_60_usd_above_the_broker(
    build: Build,
) -> None:
    facts = build("pnl_misrecorded")
    note = facts.result.notes["pnl_misrecorded"]
    [(ts, kind, strategy, account, payload)] = facts.rows(
        "SELECT ts, type, strategy_id, account_id, payload FROM events WHERE seq = ?", note["seq"]
    )
    broker = next(
        Decimal(closed["realized_pl"])
        for tx in facts.accounts[account]["transactions"]
        for closed in tx.get("trades_closed", [])
        if closed["trade_id"] == note["broker_trade_id"]
    )
    stored = Decimal(str(json.loads(payload)["realized_pl"]))
    assert (kind, account) == ("TRADE_CLOSED", note["account_id"]) and ts >= TODAY
    assert stored - broker == 60 and Decimal(str(note["broker_realized_pl"])) == broker
    # Its strategy's last close: no later trade can deepen a drawdown from the extra 60 USD.
    later = facts.rows(
        "SELECT seq FROM events WHERE type = 'TRADE_CLOSED' AND strategy_id = ? AND seq > ?",
        strategy,
        note["seq"],
    )
    assert later == []
    assert facts.problems() == {"pnl"}


def test_big_position_is_an_extra_long_filled_and_recorded_like_any_other(build: Build) -> None:
    facts = build("big_position")
    note = facts.result.notes["big_position"]
    assert (note["account_id"], note["instrument"]) == (BIG_ACCOUNT, "EUR_USD")
    assert 100_000 <= note["units"] <= 200_000
    [(payload,)] = facts.rows("SELECT payload FROM events WHERE seq = ?", note["seq"])
    fill = json.loads(payload)
    assert (fill["units"], fill["broker_transaction_id"]) == (
        note["units"],
        note["broker_trade_id"],
    )
    trades = {t["id"]: t for t in facts.accounts[BIG_ACCOUNT]["open_trades"]}
    assert int(trades[note["broker_trade_id"]]["units"]) == note["units"]
    store, broker = facts.net_positions()
    assert store == broker
    assert facts.problems() == set()


def test_the_price_gap_costs_the_big_long_five_percent_and_no_leg_passes_three_navs(
    build: Build,
) -> None:
    facts = build("big_position")
    gap = facts.result.notes["price_gap"]
    net = facts.net_positions()[1][(BIG_ACCOUNT, "EUR_USD")]
    nav = facts.account_state(BIG_ACCOUNT)[0]
    assert float(net * Decimal(gap["EUR_USD"]) / nav) == pytest.approx(-GAP_LOSS, abs=0.002)
    assert max(facts.exposure_in_navs(BIG_ACCOUNT, gap).values()) < 3
    assert facts.closeout(BIG_ACCOUNT) < 0.5


def test_oversized_position_holds_about_five_navs_of_euro_and_nothing_else_breaks(
    build: Build,
) -> None:
    facts = build("oversized_position")
    note = facts.result.notes["oversized_position"]
    assert note["units"] == 450_000 and "price_gap" not in facts.result.notes
    assert 4 < facts.exposure_in_navs(BIG_ACCOUNT)["EUR"] < 6
    assert facts.closeout(BIG_ACCOUNT) < 0.5
    assert facts.problems() == set()


def test_the_big_long_shrinks_when_the_accounts_other_trades_are_short_usd() -> None:
    books = Books(0)
    pair = PAIR_BY_NAME["EUR_USD"]
    big = Trade(BIG_ACCOUNT, pair, 200_000, pair.mid_int, "c-big")
    aud, chf = PAIR_BY_NAME["AUD_USD"], PAIR_BY_NAME["USD_CHF"]
    held = [
        Trade(BIG_ACCOUNT, aud, 60_000, aud.mid_int, "c-1"),  # long AUD: short USD
        Trade(BIG_ACCOUNT, chf, -60_000, chf.mid_int, "c-2"),  # short USD_CHF: short USD
        Trade(ACCOUNTS[1], chf, -900_000, chf.mid_int, "c-3"),  # another account's
        big,
    ]
    size_big_position(big, held, books)
    usd = -big.units * float(pair.mid) - 60_000 * float(aud.mid) - 60_000
    nav_after = books.accounts[BIG_ACCOUNT].balance / MONEY * (1 - GAP_LOSS)
    assert 100_000 < big.units < 200_000 and big.store_units == big.units
    assert abs(usd) <= BIG_MAX_EXPOSURE * nav_after
