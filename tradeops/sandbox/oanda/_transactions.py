"""Ledger transactions rendered as OANDA v20 Transaction objects, and the filters on them.

The ledger keeps snake_case plain data; OANDA speaks camelCase with `ID`/`PL` suffixes
(`order_id` -> `orderID`, `realized_pl` -> `realizedPL`). Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

# OANDA's TransactionFilter enum (v20 spec): anything else in `type=` is a 400.
TRANSACTION_FILTERS = frozenset(
    """ORDER FUNDING ADMIN CREATE CLOSE REOPEN CLIENT_CONFIGURE CLIENT_CONFIGURE_REJECT
    TRANSFER_FUNDS TRANSFER_FUNDS_REJECT MARKET_ORDER MARKET_ORDER_REJECT LIMIT_ORDER
    LIMIT_ORDER_REJECT STOP_ORDER STOP_ORDER_REJECT MARKET_IF_TOUCHED_ORDER
    MARKET_IF_TOUCHED_ORDER_REJECT TAKE_PROFIT_ORDER TAKE_PROFIT_ORDER_REJECT STOP_LOSS_ORDER
    STOP_LOSS_ORDER_REJECT TRAILING_STOP_LOSS_ORDER TRAILING_STOP_LOSS_ORDER_REJECT
    ONE_CANCELS_ALL_ORDER ONE_CANCELS_ALL_ORDER_REJECT ONE_CANCELS_ALL_ORDER_TRIGGERED
    ORDER_FILL ORDER_CANCEL ORDER_CANCEL_REJECT ORDER_CLIENT_EXTENSIONS_MODIFY
    ORDER_CLIENT_EXTENSIONS_MODIFY_REJECT TRADE_CLIENT_EXTENSIONS_MODIFY
    TRADE_CLIENT_EXTENSIONS_MODIFY_REJECT MARGIN_CALL_ENTER MARGIN_CALL_EXTEND
    MARGIN_CALL_EXIT DELAYED_TRADE_CLOSURE DAILY_FINANCING RESET_RESETTABLE_PL""".split()  # noqa: SIM905
)
# Group filters: a coarse reading of OANDA's groups, enough for the suite's queries.
_GROUPS = {
    "ORDER": lambda t: "ORDER" in t,
    "FUNDING": lambda t: t.startswith("TRANSFER_FUNDS") or t == "DAILY_FINANCING",
    "ADMIN": lambda t: t in {"CREATE", "CLOSE", "REOPEN"} or t.startswith("CLIENT_CONFIGURE"),
}
_ZERO = "0.0000"
# Fields OANDA always sends on these types; the ledger does not carry them.
_DEFAULTS = {
    "MARKET_ORDER": {"timeInForce": "FOK", "positionFill": "DEFAULT", "reason": "CLIENT_ORDER"},
    "ORDER_FILL": {
        "reason": "MARKET_ORDER",
        "financing": _ZERO,
        "commission": _ZERO,
        "guaranteedExecutionFee": _ZERO,
    },
}


def rfc3339_ms(ms: int) -> str:
    """Epoch milliseconds as OANDA's RFC 3339 with nanoseconds: 2026-11-24T09:00:00.123000000Z."""
    seconds, millis = divmod(int(ms), 1000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{millis:03d}000000Z"


def rfc3339(moment: datetime) -> str:
    """An aware datetime in OANDA's RFC 3339 form (microseconds padded to nanoseconds)."""
    utc = moment.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond:06d}000Z"


def parse_time(text: str) -> datetime:
    """An OANDA DateTime query value (RFC 3339 or UNIX seconds) as an aware UTC datetime."""
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        pass  # not UNIX seconds: read it as RFC 3339
    moment = datetime.fromisoformat(text)  # 3.11 reads "Z" and up to 9 fractional digits
    if moment.tzinfo is None:
        raise ValueError(f"time without a UTC offset: {text!r}")
    return moment.astimezone(UTC)


def matches(kind: str, filters: frozenset[str]) -> bool:
    """True if a transaction of type `kind` passes a `type=` filter (empty: everything)."""
    if not filters:
        return True
    return kind in filters or any(_GROUPS[g](kind) for g in filters & _GROUPS.keys())


def camel(key: str) -> str:
    """snake_case ledger key -> OANDA field name: order_id -> orderID, realized_pl -> realizedPL."""
    head, *rest = key.split("_")
    special = {"id": "ID", "pl": "PL"}
    return head + "".join(special.get(part, part.capitalize()) for part in rest)


def _camelized(value: object) -> object:
    if isinstance(value, dict):
        return {camel(k): _camelized(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camelized(v) for v in value]
    return value


def render(account_id: str, txn: dict) -> dict:
    """One ledger transaction as an OANDA Transaction object of its type."""
    kind = txn["type"]
    own_id = str(txn["id"])
    # An order and its fill form one batch; OANDA's batchID is the batch's first id.
    batch = str(txn.get("order_id", own_id))
    out: dict = {
        "id": own_id,
        "time": rfc3339_ms(txn["time_ms"]),
        "userID": user_id(account_id),
        "accountID": account_id,
        "batchID": batch,
        "requestID": str(24_000_000_000_000_000 + int(batch if batch.isdigit() else own_id)),
        "type": kind,
    }
    for key, value in txn.items():
        if key in {"id", "time_ms", "type"}:
            continue
        if kind == "MARKET_ORDER" and key == "client_order_id":
            out["clientExtensions"] = {"id": value}  # orders carry it as their extension id
            continue
        out[camel(key)] = _camelized(value)
    for key, value in _DEFAULTS.get(kind, {}).items():
        out.setdefault(key, value)
    if kind == "ORDER_FILL":
        _complete_fill(out)
    return out


def _complete_fill(fill: dict) -> None:
    """Fill in what OANDA sends on every fill's TradeOpen/TradeReduce parts."""
    price = fill.get("price")
    if price is not None:
        fill.setdefault("fullVWAP", price)
    opened = fill.get("tradeOpened")
    if isinstance(opened, dict):
        opened.setdefault("price", price)
        opened.setdefault("guaranteedExecutionFee", _ZERO)
    for closed in fill.get("tradesClosed") or []:
        if isinstance(closed, dict):
            closed.setdefault("price", price)
            closed.setdefault("financing", _ZERO)
            closed.setdefault("guaranteedExecutionFee", _ZERO)


def user_id(account_id: str) -> int:
    """The user part of an OANDA account id: 101-004-1234567-001 -> 1234567."""
    parts = account_id.split("-")
    return int(parts[2]) if len(parts) == 4 and parts[2].isdigit() else 0


@dataclass
class Account:
    """One ledger account, its transactions sorted by id, renderings cached."""

    raw: dict
    txns: list[dict]  # sorted by numeric id
    ids: list[int] = field(default_factory=list)
    rendered: dict[int, dict] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The OANDA account id."""
        return self.raw["id"]

    @property
    def last_id(self) -> str:
        """lastTransactionID: the highest transaction id, "0" for an empty account."""
        return str(self.ids[-1]) if self.ids else "0"

    def render(self, txn: dict) -> dict:
        """The OANDA rendering of one of this account's transactions (cached)."""
        key = int(txn["id"])
        if key not in self.rendered:  # a benign race between threads: both render the same
            self.rendered[key] = render(self.id, txn)
        return self.rendered[key]

    def in_time(self, start_us: int, end_us: int, filters: frozenset[str]) -> list[dict]:
        """Transactions with start <= time <= end (epoch microseconds) passing the filter."""
        return [
            t
            for t in self.txns
            if start_us <= int(t["time_ms"]) * 1000 <= end_us and matches(t["type"], filters)
        ]

    def in_ids(self, first: int, last: int, filters: frozenset[str]) -> list[dict]:
        """Transactions with first <= id <= last passing the filter."""
        return [
            t
            for t, i in zip(self.txns, self.ids, strict=True)
            if first <= i <= last and matches(t["type"], filters)
        ]

    def since(self, after: int) -> list[dict]:
        """Transactions after (not including) id `after`."""
        return [t for t, i in zip(self.txns, self.ids, strict=True) if i > after]
