"""The ledger side of a built sandbox's healthy invariants: fills, balances, snapshots,
realized P&L, and the store's schema (split from _store_facts, which names them all)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.sandbox._store_facts import Facts

# The contract's indexes (platform-contract.md section 1): name -> columns.
CONTRACT_INDEXES = {
    "events_ts": ["ts"],
    "events_type_ts": ["type", "ts"],
    "events_run": ["run_id", "run_seq"],
}


def fill_mismatch(f: Facts) -> bool:
    """An ORDER_FILLED that is not the ledger's ORDER_FILL (id, order, units, instrument)."""
    fills = f.ledger_fills()
    orders = {
        (a["id"], tx["id"]): tx
        for a in f.ledger["accounts"]
        for tx in a["transactions"]
        if tx["type"] == "MARKET_ORDER"
    }
    for _, _, _, _, _, inst, acct, p in f.events("ORDER_FILLED"):
        tx = fills.get((acct, p["broker_transaction_id"]))
        order = orders.get((acct, tx["order_id"])) if tx else None
        if tx is None or order is None or int(order["id"]) >= int(tx["id"]):
            return True
        if (tx["instrument"], int(tx["units"])) != (inst, p["units"]) or order["units"] != tx[
            "units"
        ]:
            return True
    return False


def ledger(f: Facts) -> bool:
    """Transaction ids not 1..n, time going back, or a balance that is not the sum of P&L."""
    for a in f.ledger["accounts"]:
        txs = a["transactions"]
        if [int(t["id"]) for t in txs] != list(range(1, len(txs) + 1)):
            return True
        if any(x["time_ms"] > y["time_ms"] for x, y in itertools.pairwise(txs)):
            return True
        realized = sum(Decimal(t["pl"]) for t in txs if t["type"] == "ORDER_FILL")
        if Decimal(a["initial_balance"]) + realized != Decimal(a["balance"]):
            return True
    return False


def snapshots(f: Facts) -> bool:
    """Each ACCOUNT_SNAPSHOT's balance is the ledger's balance at that moment."""
    history: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for a in f.ledger["accounts"]:
        for t in a["transactions"]:
            if t["type"] == "ORDER_FILL":
                history[a["id"]].append((t["time_ms"], Decimal(t["account_balance"])))
    for _, ts, *_, acct, p in f.events("ACCOUNT_SNAPSHOT"):
        before = [b for t, b in history[acct] if t <= ts]
        balance = before[-1] if before else Decimal(f.accounts[acct]["initial_balance"])
        if Decimal(str(p["balance"])) != balance:
            return True
    return False


def schema(f: Facts) -> bool:
    """The events table's indexes are not exactly the contract's."""
    indexes = {
        name: [col for _, _, col in f.rows(f"PRAGMA index_info({name})")]
        for _, name, *_ in f.rows("PRAGMA index_list(events)")
    }
    return indexes != CONTRACT_INDEXES


def pnl(f: Facts) -> bool:
    """Every TRADE_CLOSED's realized_pl is the broker's realized P&L of that trade."""
    realized = {
        (a["id"], closed["trade_id"]): Decimal(closed["realized_pl"])
        for a in f.ledger["accounts"]
        for tx in a["transactions"]
        for closed in tx.get("trades_closed", [])
    }
    for *_, acct, p in f.events("TRADE_CLOSED"):
        broker = realized.get((acct, p["broker_trade_id"]))
        if broker is None or Decimal(str(p["realized_pl"])) != broker:
            return True
    return False
