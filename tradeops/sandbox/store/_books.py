"""The broker's books: accounts, OANDA-style transactions and open trades, kept in time order.

Events that touch the broker (orders, fills, closes, account snapshots) are applied here in
global time order, so transaction ids increase with time in every account and a snapshot
sees exactly the balance and open trades of its moment.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from tradeops.sandbox.scenarios import ACCOUNTS
from tradeops.sandbox.store.model import (
    ACCOUNT_ALIASES,
    INITIAL_BALANCE,
    MARGIN_RATE,
    MONEY,
    PAIR_BY_NAME,
    PAIRS,
    Pair,
    money_float,
    money_str,
    parse_money,
)


def dumps(payload: dict[str, Any]) -> str:
    """A payload as compact JSON, the way the platform writes it."""
    return json.dumps(payload, separators=(",", ":"))


class Trade:
    """One planned round trip (or an open trade) of a strategy."""

    __slots__ = (
        "account",
        "cid",
        "close_order",
        "close_price",
        "open_order",
        "open_price",
        "pair",
        "pl",
        "pl_error",
        "store_units",
        "trade_id",
        "units",
        "win",
    )

    def __init__(self, account: str, pair: Pair, units: int, open_price: int, cid: str) -> None:
        self.account = account
        self.pair = pair
        self.units = units
        self.store_units = units  # what the platform records; differs only under a fault
        self.open_price = open_price
        self.close_price: int | None = None
        self.pl = 0
        self.pl_error = 0  # what the platform's TRADE_CLOSED adds to the broker's P&L (fault)
        self.cid = cid
        self.open_order = ""
        self.close_order = ""
        self.trade_id = ""
        self.win = False

    def close_at(self, price: int) -> None:
        """Set the closing price and the realized profit or loss it gives."""
        self.close_price = price
        self.pl = self.pair.pl(self.units, self.open_price, price)


class Account:
    """One broker account's state."""

    __slots__ = (
        "alias",
        "balance",
        "created_ms",
        "id",
        "initial",
        "margin_rate",
        "next_id",
        "open_trades",
        "peak_nav",
        "transactions",
    )

    def __init__(self, account_id: str, alias: str, created_ms: int) -> None:
        self.id = account_id
        self.alias = alias
        self.created_ms = created_ms
        self.initial = INITIAL_BALANCE
        self.balance = INITIAL_BALANCE
        self.margin_rate = MARGIN_RATE
        self.next_id = 1
        self.transactions: list[dict[str, Any]] = []
        self.open_trades: dict[str, dict[str, Any]] = {}
        self.peak_nav = INITIAL_BALANCE

    def _tx(self, time_ms: int, kind: str, **fields: Any) -> dict[str, Any]:
        tx = {"id": str(self.next_id), "time_ms": time_ms, "type": kind, **fields}
        self.next_id += 1
        self.transactions.append(tx)
        return tx

    def loss_gap(self, instrument: str, share: float) -> str:
        """The price move (whole pips, a decimal string) against the account's net position
        in `instrument` that loses `share` of its NAV; ValueError if it holds none."""
        pair = PAIR_BY_NAME[instrument]
        trades = self.open_trades.values()
        net = sum(int(t["units"]) for t in trades if t["instrument"] == instrument)
        if not net:
            raise ValueError(f"account {self.id} holds no {instrument} position to gap against")
        move = share * self.state()[0] / MONEY / (abs(net) * pair.quote_usd)
        pips = round(move / float(pair.pip))
        return str(Decimal(pair.pip) * (-pips if net > 0 else pips))

    def state(self) -> tuple[int, int, int, int]:
        """(nav, balance, unrealized P&L, margin used) as money integers, marked at the mids."""
        rate = float(self.margin_rate)
        unrealized = margin = 0
        for trade in self.open_trades.values():
            pair = PAIR_BY_NAME[trade["instrument"]]
            units = int(trade["units"])
            unrealized += pair.pl(units, trade["price_int"], pair.mid_int)
            margin += pair.margin(units, rate)
        return self.balance + unrealized, self.balance, unrealized, margin


class Books:
    """Every account's books, and what the platform failed to persist."""

    def __init__(self, created_ms: int) -> None:
        self.accounts = {
            a: Account(a, ACCOUNT_ALIASES[i % len(ACCOUNT_ALIASES)], created_ms)
            for i, a in enumerate(ACCOUNTS)
        }
        self.unpersisted: list[tuple[str, str]] = []  # (account, ORDER_FILL id) not in the store
        self.mismatched: list[dict[str, Any]] = []  # fills stored with other units than filled

    def submit(self, trade: Trade, ts: int, closing: bool) -> str:
        """A MARKET_ORDER transaction; the ORDER_SUBMITTED payload."""
        units = -trade.units if closing else trade.units
        cid = f"{trade.cid}-{'c' if closing else 'o'}"
        tx = self.accounts[trade.account]._tx(
            ts, "MARKET_ORDER", instrument=trade.pair.name, units=str(units), client_order_id=cid
        )
        if closing:
            trade.close_order = tx["id"]
        else:
            trade.open_order = tx["id"]
        return dumps({"client_order_id": cid, "units": units})

    def fill(self, trade: Trade, ts: int, closing: bool, persisted: bool) -> str:
        """An ORDER_FILL transaction opening or closing the trade; the ORDER_FILLED payload."""
        account = self.accounts[trade.account]
        pair = trade.pair
        cid = f"{trade.cid}-{'c' if closing else 'o'}"
        if closing:
            assert trade.close_price is not None
            price, units = trade.close_price, -trade.units
            account.balance += trade.pl
            tx = account._tx(
                ts,
                "ORDER_FILL",
                order_id=trade.close_order,
                instrument=pair.name,
                units=str(units),
                price=pair.price_str(price),
                pl=money_str(trade.pl),
                account_balance=money_str(account.balance),
                client_order_id=cid,
                trades_closed=[
                    {
                        "trade_id": trade.trade_id,
                        "units": str(units),
                        "realized_pl": money_str(trade.pl),
                    }
                ],
            )
            del account.open_trades[trade.trade_id]
            store_units = units
        else:
            price, units = trade.open_price, trade.units
            tx = account._tx(
                ts,
                "ORDER_FILL",
                order_id=trade.open_order,
                instrument=pair.name,
                units=str(units),
                price=pair.price_str(price),
                pl=money_str(0),
                account_balance=money_str(account.balance),
                client_order_id=cid,
                trade_opened={"trade_id": "", "units": str(units)},
            )
            trade.trade_id = tx["id"]  # OANDA names a trade after the fill that opened it
            tx["trade_opened"]["trade_id"] = tx["id"]
            account.open_trades[tx["id"]] = {
                "id": tx["id"],
                "instrument": pair.name,
                "units": str(units),
                "price": pair.price_str(price),
                "open_time_ms": ts,
                "price_int": price,
            }
            store_units = trade.store_units
        if not persisted:
            self.unpersisted.append((account.id, tx["id"]))
        elif store_units != units:
            self.mismatched.append(
                {
                    "account_id": account.id,
                    "instrument": pair.name,
                    "broker_transaction_id": tx["id"],
                    "broker_units": units,
                    "store_units": store_units,
                }
            )
        return dumps(
            {
                "client_order_id": cid,
                "broker_transaction_id": tx["id"],
                "units": store_units,
                "price": pair.price_float(price),
            }
        )

    def closed(self, trade: Trade) -> str:
        """The TRADE_CLOSED payload of a closed trade."""
        return dumps(
            {
                "broker_trade_id": trade.trade_id,
                "units": -trade.units,
                "realized_pl": money_float(trade.pl + trade.pl_error),
            }
        )

    def snapshot(self, account_id: str) -> str:
        """The ACCOUNT_SNAPSHOT payload of the account at this moment."""
        account = self.accounts[account_id]
        nav, balance, unrealized, margin = account.state()
        account.peak_nav = max(account.peak_nav, nav)
        return dumps(
            {
                "nav": money_float(nav),
                "balance": money_float(balance),
                "unrealized_pl": money_float(unrealized),
                "margin_used": money_float(margin),
            }
        )

    def to_ledger(self) -> dict[str, Any]:
        """The ledger.json document the broker simulator serves."""
        return {
            "home_currency": "USD",
            "instruments": {
                p.name: {"mid": p.mid, "pip": p.pip, "precision": p.precision} for p in PAIRS
            },
            "accounts": [
                {
                    "id": a.id,
                    "alias": a.alias,
                    "currency": "USD",
                    "created_ms": a.created_ms,
                    "initial_balance": money_str(a.initial),
                    "balance": money_str(a.balance),
                    "margin_rate": a.margin_rate,
                    "transactions": a.transactions,
                    "open_trades": [
                        {k: v for k, v in t.items() if k != "price_int"}
                        for t in a.open_trades.values()
                    ],
                }
                for a in self.accounts.values()
            ],
        }

    @classmethod
    def from_ledger(cls, ledger: dict[str, Any], peaks: dict[str, int]) -> Books:
        """Books restored from a ledger.json document (a cached history)."""
        books = cls(0)
        for raw in ledger["accounts"]:
            account = books.accounts[raw["id"]]
            account.created_ms = raw["created_ms"]
            account.initial = parse_money(raw["initial_balance"])
            account.balance = parse_money(raw["balance"])
            account.margin_rate = raw["margin_rate"]
            account.transactions = raw["transactions"]
            account.next_id = int(raw["transactions"][-1]["id"]) + 1 if raw["transactions"] else 1
            for t in raw["open_trades"]:
                pair = PAIR_BY_NAME[t["instrument"]]
                price_int = round(float(t["price"]) * pair.scale)
                account.open_trades[t["id"]] = {**t, "price_int": price_int}
            account.peak_nav = peaks.get(account.id, account.balance)
        return books
