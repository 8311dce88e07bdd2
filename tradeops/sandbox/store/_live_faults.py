"""The live session's money and ordering faults: where they go, and where the notes say they are.

- big_position / oversized_position: one live run of account -001's EUR_USD strategy opens
  an extra long, filled by the broker and recorded by the platform like any other trade;
- price_gap (with big_position): the quote move, in whole pips, that makes that long lose
  about 5% of the account's NAV; the broker simulator applies it;
- pnl_misrecorded: the platform's TRADE_CLOSED of one of today's closes says 60 USD more
  than the broker realized (the ledger stays the truth);
- ts_backwards: three clean RECONCILIATIONs stamped 10 minutes in the past, appended 20 s
  before now, so the platform's later writes keep the newest event fresh.
"""

from __future__ import annotations

import bisect
import sqlite3
from typing import Any

from tradeops.sandbox.scenarios import ACCOUNTS
from tradeops.sandbox.store._books import Books, Trade
from tradeops.sandbox.store._platform_events import late_reconciliations
from tradeops.sandbox.store._runs import Row
from tradeops.sandbox.store._stats import planned
from tradeops.sandbox.store.model import MONEY, Strategy, money_float

BIG_ACCOUNT, BIG_INSTRUMENT = ACCOUNTS[0], "EUR_USD"
# Units of the extra long: EUR exposure ~2.2x NAV (under the 3x limit) or ~4.9x (over it).
EXTRA_LONG = {"big_position": 200_000, "oversized_position": 450_000}
GAP_LOSS = 0.05  # price_gap: the move against the big position loses this share of the NAV
# big_position: no currency leg of the account (USD counts too) above this many NAVs after
# the gap, so only the daily loss fails, not the exposure limit (3x).
BIG_MAX_EXPOSURE = 2.5
PL_ERROR = 60 * MONEY  # pnl_misrecorded: the store's realized P&L exceeds the broker's by this
LATE_BY_MS = 600_000  # ts_backwards: how far in the past the late events are stamped
LATE_AT_MS = 20_000  # ... and how long before now they were appended


def extra_units(faults: frozenset[str]) -> int:
    """Units of the extra long the faults ask for (0: none)."""
    return next((units for fault, units in EXTRA_LONG.items() if fault in faults), 0)


def extra_long_pick(scheduled: list[Strategy]) -> Strategy:
    """The scheduled EUR_USD strategy of account -001 that opens the extra long."""
    for s in scheduled:
        if (s.account, s.pair.name) == (BIG_ACCOUNT, BIG_INSTRUMENT):
            return s
    raise ValueError(f"no scheduled {BIG_INSTRUMENT} strategy on {BIG_ACCOUNT} to size up")


def pnl_pick(scheduled: list[Strategy]) -> Strategy:
    """The strategy whose close is misrecorded: the largest P&L per trade, so 60 USD
    barely moves its paper-trading figures (tracking must stay green)."""
    return max(scheduled, key=lambda s: abs(planned(s)["avg_pl_per_trade"]))


def size_big_position(trade: Trade, held: list[Trade], books: Books) -> None:
    """Shrink the big long (before it is written) so that, with the account's other open
    trades, its USD leg stays within BIG_MAX_EXPOSURE x the NAV left after the gap."""
    mine = [t for t in held if t.account == trade.account and t is not trade]
    usd = 0.0  # the other trades' net USD (long USD_CHF adds, long AUD_USD takes away)
    for t in mine:
        base, quote = t.pair.name.split("_")
        usd += t.units if base == "USD" else -t.units * float(t.pair.mid) if quote == "USD" else 0
    mid = float(trade.pair.mid)
    nav_after = books.accounts[trade.account].balance / MONEY * (1 - GAP_LOSS)
    longest = (BIG_MAX_EXPOSURE * nav_after + usd) / mid  # the account's EUR_USD at most
    others = sum(t.units for t in mine if t.pair is trade.pair)
    units = max(1_000, min(trade.units, int(longest - others) // 1_000 * 1_000))
    trade.units = trade.store_units = units


def splice_late(rows: list[Row], now_ms: int) -> dict[str, Any]:
    """Insert the three late events among rows (sorted by ts) where now - 20 s falls; a note."""
    at = bisect.bisect_left(rows, now_ms - LATE_AT_MS, key=lambda r: r[0])
    rows[at:at] = late_reconciliations(now_ms - LATE_BY_MS)
    return {"behind_s": LATE_BY_MS // 1000}


def locate(
    con: sqlite3.Connection,
    faults: frozenset[str],
    faulty: dict[str, tuple[str, Trade]],
    notes: dict[str, Any],
    now_ms: int,
) -> None:
    """Add the store seqs and broker ids of these faults to the notes."""
    if "ts_backwards" in notes:
        stamps = [row[0] for row in late_reconciliations(now_ms - LATE_BY_MS)]
        notes["ts_backwards"]["seqs"] = [
            con.execute(
                "SELECT seq FROM events WHERE type = 'RECONCILIATION' AND ts = ?", (ts,)
            ).fetchone()[0]
            for ts in stamps
        ]
    for fault, (run_id, trade) in faulty.items():
        kind, key = "TRADE_CLOSED", "$.broker_trade_id"
        if fault == "extra_long":
            kind, key = "ORDER_FILLED", "$.broker_transaction_id"
        [(seq,)] = con.execute(
            "SELECT seq FROM events WHERE run_id = ? AND type = ? AND json_extract(payload, ?) = ?",
            (run_id, kind, key, trade.trade_id),
        ).fetchall()
        where = {
            "account_id": trade.account,
            "instrument": trade.pair.name,
            "run_id": run_id,
            "broker_trade_id": trade.trade_id,
            "seq": seq,
        }
        if fault == "extra_long":
            name = next(f for f in EXTRA_LONG if f in faults)
            notes[name] = {**where, "units": trade.units}
        else:
            notes[fault] = {
                **where,
                "broker_realized_pl": money_float(trade.pl),
                "store_realized_pl": money_float(trade.pl + trade.pl_error),
            }


def price_gap(books: Books) -> dict[str, str]:
    """The price_gap the simulator applies: {instrument: decimal string}."""
    return {BIG_INSTRUMENT: books.accounts[BIG_ACCOUNT].loss_gap(BIG_INSTRUMENT, GAP_LOSS)}
