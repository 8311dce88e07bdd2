"""The broker's books (ledger.json) rendered as OANDA v20 JSON at a given instant.

`Book(ledger)` checks the ledger once (LedgerError) and indexes it; every method takes
`now`, so the answers are pure functions of (ledger, now). Valuation, as OANDA does it:

- unrealizedPL: each open trade marked at the price it would close at (longs at the bid,
  shorts at the ask), converted from its quote currency to the home currency through the
  instrument set (EUR_GBP's GBP via GBP_USD's mid, USD_JPY's JPY via 1 / USD_JPY's mid);
- NAV = balance + unrealizedPL;
- positionValue = sum |units| x mid x quote->home factor; marginUsed = positionValue x marginRate;
- marginAvailable = max(NAV - marginUsed, 0);
- marginCloseoutPercent = (marginUsed / 2) / NAV (OANDA's closeout margin is half the margin
  used; >= 1 means closeout); 1 when NAV <= 0 with margin in use, 0 with none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from tradeops.sandbox.oanda._ledger import check_ledger
from tradeops.sandbox.oanda._prices import (
    LIQUIDITY,
    ConversionError,
    Quote,
    home_factor,
    quote,
    quote_currency,
)
from tradeops.sandbox.oanda._transactions import Account, rfc3339, rfc3339_ms, user_id

_MONEY = Decimal("0.0001")
_PERCENT = Decimal("0.00001")
_FACTOR = Decimal("0.00000001")


def money(value: Decimal) -> str:
    """Account-currency amount as OANDA writes it: "100000.0000" (never "-0.0000")."""
    q = value.quantize(_MONEY)
    return str(abs(q) if q == 0 else q)


@dataclass
class _Side:
    units: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)  # sum units x open price, for the average price
    trade_ids: list[str] = field(default_factory=list)
    upl: Decimal = Decimal(0)
    pl: Decimal = Decimal(0)


class Book:
    """The whole ledger: instruments, accounts, and their OANDA renderings."""

    def __init__(
        self,
        ledger: dict,
        price_gaps: dict[str, Decimal] | None = None,
        frozen_at: datetime | None = None,
    ) -> None:
        check_ledger(ledger)
        self.home: str = ledger["home_currency"]
        self.instruments: dict[str, dict] = ledger["instruments"]
        # Market faults: every quote, and so every valuation, sees the same market.
        self.price_gaps = dict(price_gaps or {})
        self.frozen_at = frozen_at
        self.accounts: dict[str, Account] = {}
        # The ledger never changes: what every summary would sum over all its fills is
        # summed once here (thousands of Decimals per answer, on the cores the suite uses).
        self._realized: dict[str, Decimal] = {}
        self._last_fill_ms: dict[str, int] = {}
        self._closed_pl: dict[str, dict[tuple[str, str], Decimal]] = {}
        for raw in ledger["accounts"]:
            txns = sorted(raw["transactions"], key=lambda t: int(t["id"]))
            self.accounts[raw["id"]] = Account(raw, txns, [int(t["id"]) for t in txns])
            self._index_fills(raw["id"], txns)

    def _index_fills(self, account_id: str, txns: list[dict]) -> None:
        fills = [t for t in txns if t.get("type") == "ORDER_FILL"]
        self._realized[account_id] = sum((Decimal(t.get("pl", "0")) for t in fills), Decimal(0))
        if fills:
            self._last_fill_ms[account_id] = fills[-1]["time_ms"]
        closed: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for txn in fills:
            for trade in txn.get("trades_closed") or []:
                # Closing units are negative for a long trade, positive for a short one.
                which = "long" if Decimal(trade["units"]) < 0 else "short"
                closed[(txn.get("instrument"), which)] += Decimal(trade.get("realized_pl", "0"))
        self._closed_pl[account_id] = dict(closed)

    # -- prices -----------------------------------------------------------------------

    def quotes(self, now: datetime) -> dict[str, Quote]:
        """Every instrument's quote at `now`."""
        return {
            name: quote(
                name,
                spec,
                now,
                gap=self.price_gaps.get(name, Decimal(0)),
                frozen_at=self.frozen_at,
            )
            for name, spec in self.instruments.items()
        }

    def client_price(self, q: Quote, quotes: dict[str, Quote]) -> dict:
        """One ClientPrice object."""
        factor = self._factor(q.instrument, quotes).quantize(_FACTOR)
        return {
            "type": "PRICE",
            "instrument": q.instrument,
            "time": rfc3339(q.time),
            "status": "tradeable" if q.tradeable else "non-tradeable",
            "tradeable": q.tradeable,
            "bids": [
                {"price": str(q.bid), "liquidity": LIQUIDITY[0]},
                {"price": str(q.bid_deep), "liquidity": LIQUIDITY[1]},
            ],
            "asks": [
                {"price": str(q.ask), "liquidity": LIQUIDITY[0]},
                {"price": str(q.ask_deep), "liquidity": LIQUIDITY[1]},
            ],
            "closeoutBid": str(q.bid_deep),
            "closeoutAsk": str(q.ask_deep),
            "quoteHomeConversionFactors": {
                "positiveUnits": str(factor),
                "negativeUnits": str(factor),
            },
        }

    def pricing(self, instruments: list[str], now: datetime, conversions: bool) -> dict:
        """The body of GET /pricing for the given (known) instruments."""
        quotes = self.quotes(now)
        body: dict = {
            "time": rfc3339(now),
            "prices": [self.client_price(quotes[name], quotes) for name in instruments],
        }
        if conversions:
            body["homeConversions"] = self._home_conversions(quotes)
        return body

    def _home_conversions(self, quotes: dict[str, Quote]) -> list[dict]:
        """HomeConversions for every currency the instruments can convert to the home one."""
        mids = {name: q.mid for name, q in quotes.items()}
        found = []
        for currency in sorted({c for name in self.instruments for c in name.split("_")}):
            try:
                factor = str(home_factor(currency, self.home, mids).quantize(_FACTOR))
            except ConversionError:
                continue  # a base currency no instrument prices in the home currency
            found.append(
                {"currency": currency, "accountGain": factor, "accountLoss": factor,
                 "positionValue": factor}
            )  # fmt: skip
        return found

    def _factor(self, instrument: str, quotes: dict[str, Quote]) -> Decimal:
        mids = {name: q.mid for name, q in quotes.items()}
        return home_factor(quote_currency(instrument), self.home, mids)

    # -- valuation --------------------------------------------------------------------

    def _sides(self, account: Account, now: datetime) -> dict[str, dict[str, _Side]]:
        """instrument -> {"long": side, "short": side}, with unrealized P/L at `now`."""
        quotes = self.quotes(now)
        sides: dict[str, dict[str, _Side]] = defaultdict(
            lambda: {"long": _Side(), "short": _Side()}
        )
        for trade in account.raw["open_trades"]:
            name = trade["instrument"]
            units, price = Decimal(trade["units"]), Decimal(trade["price"])
            q = quotes[name]
            side = sides[name]["long" if units > 0 else "short"]
            side.units += units
            side.cost += units * price
            side.trade_ids.append(str(trade["id"]))
            close = q.bid if units > 0 else q.ask
            side.upl += units * (close - price) * self._factor(name, quotes)
        closed = self._closed_pl[account.id]
        for name, both in sides.items():  # realized P/L of the instruments still open
            for which, side in both.items():
                side.pl += closed.get((name, which), Decimal(0))
        return sides

    def _exposure(self, account: Account, now: datetime) -> tuple[Decimal, Decimal]:
        """(positionValue, marginUsed) in the home currency at `now`."""
        quotes = self.quotes(now)
        rate = Decimal(account.raw["margin_rate"])
        value = Decimal(0)
        for trade in account.raw["open_trades"]:
            q = quotes[trade["instrument"]]
            value += abs(Decimal(trade["units"])) * q.mid * self._factor(q.instrument, quotes)
        return value, value * rate

    def summary(self, account_id: str, now: datetime) -> dict:
        """The body of GET /summary."""
        account = self.accounts[account_id]
        raw = account.raw
        sides = self._sides(account, now)
        upl = sum((s.upl for both in sides.values() for s in both.values()), Decimal(0))
        balance = Decimal(raw["balance"])
        nav = balance + upl
        position_value, margin_used = self._exposure(account, now)
        if nav > 0:
            closeout = (margin_used / 2) / nav
            call = margin_used / nav
        else:
            closeout = call = Decimal(1 if margin_used else 0)
        available = max(nav - margin_used, Decimal(0))
        realized = self._realized[account_id]
        summary = {
            "id": account_id,
            "alias": raw.get("alias", ""),
            "currency": raw["currency"],
            "balance": money(balance),
            "createdByUserID": user_id(account_id),
            "createdTime": rfc3339_ms(raw.get("created_ms", 0)),
            "guaranteedStopLossOrderMode": "DISABLED",
            "pl": money(realized),
            "resettablePL": money(realized),
            "financing": money(Decimal(0)),
            "commission": money(Decimal(0)),
            "guaranteedExecutionFees": money(Decimal(0)),
            "marginRate": str(raw["margin_rate"]),
            "openTradeCount": len(raw["open_trades"]),
            "openPositionCount": len(sides),
            "pendingOrderCount": 0,
            "hedgingEnabled": False,
            "unrealizedPL": money(upl),
            "NAV": money(nav),
            "marginUsed": money(margin_used),
            "marginAvailable": money(available),
            "positionValue": money(position_value),
            "marginCloseoutUnrealizedPL": money(upl),
            "marginCloseoutNAV": money(nav),
            "marginCloseoutMarginUsed": money(margin_used / 2),
            "marginCloseoutPercent": str(closeout.quantize(_PERCENT)),
            "marginCloseoutPositionValue": money(position_value),
            "withdrawalLimit": money(available),
            "marginCallMarginUsed": money(margin_used),
            "marginCallPercent": str(call.quantize(_PERCENT)),
            "lastTransactionID": account.last_id,
        }
        if account_id in self._last_fill_ms:
            summary["lastOrderFillTimestamp"] = rfc3339_ms(self._last_fill_ms[account_id])
        return {"account": summary, "lastTransactionID": account.last_id}

    def open_positions(self, account_id: str, now: datetime) -> dict:
        """The body of GET /openPositions: one Position per instrument with open trades."""
        account = self.accounts[account_id]
        quotes = self.quotes(now)
        rate = Decimal(account.raw["margin_rate"])
        positions = []
        for name, both in sorted(self._sides(account, now).items()):
            q = quotes[name]
            factor = self._factor(name, quotes)
            units = abs(both["long"].units) + abs(both["short"].units)
            total_pl = both["long"].pl + both["short"].pl
            total_upl = both["long"].upl + both["short"].upl
            tick = Decimal(1).scaleb(-int(self.instruments[name]["precision"]))
            positions.append(
                {
                    "instrument": name,
                    "pl": money(total_pl),
                    "unrealizedPL": money(total_upl),
                    "marginUsed": money(units * q.mid * factor * rate),
                    "resettablePL": money(total_pl),
                    "financing": money(Decimal(0)),
                    "commission": money(Decimal(0)),
                    "guaranteedExecutionFees": money(Decimal(0)),
                    "long": _side(both["long"], tick),
                    "short": _side(both["short"], tick),
                }
            )
        return {"positions": positions, "lastTransactionID": account.last_id}


def _side(side: _Side, tick: Decimal) -> dict:
    """A PositionSide; an empty side carries only its zero figures, as OANDA sends it."""
    out = {
        "units": str(side.units),
        "pl": money(side.pl),
        "unrealizedPL": money(side.upl),
        "resettablePL": money(side.pl),
        "financing": money(Decimal(0)),
        "guaranteedExecutionFees": money(Decimal(0)),
    }
    if side.units:
        out["averagePrice"] = str((side.cost / side.units).quantize(tick))
        out["tradeIDs"] = side.trade_ids
    return out
