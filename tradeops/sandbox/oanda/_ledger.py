"""ledger.json checked once, before the simulator announces its port.

A ledger the simulator cannot serve is refused at start with one line naming the field
(`ledger.json accounts[0].open_trades[2].units: expected a decimal string, got 12.5`), so
a bad generator run shows up in broker.log instead of as a 500 in the middle of a check.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from tradeops.sandbox.oanda._prices import ConversionError, home_factor, quote_currency


class LedgerError(ValueError):
    """ledger.json cannot be served; the message names the field."""


def _is_decimal(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


# kind -> (test, what the message says was expected)
_KINDS = {
    "decimal": (_is_decimal, "a decimal string"),
    "digits": (lambda v: isinstance(v, str) and v.isdigit(), "a string of digits"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "list": (lambda v: isinstance(v, list), "a list"),
    "dict": (lambda v: isinstance(v, dict), "an object"),
}


def _need(record: dict, key: str, kind: str, where: str, *, optional: bool = False) -> object:
    value = record.get(key)
    if value is None and optional:
        return None
    test, expected = _KINDS[kind]
    if not test(value):
        raise LedgerError(f"ledger.json {where}.{key}: expected {expected}, got {value!r:.40}")
    return value


def check_ledger(ledger: object) -> None:
    """Raise LedgerError unless the simulator can serve every account of `ledger`."""
    if not isinstance(ledger, dict):
        raise LedgerError("ledger.json: expected an object at the top")
    home = _need(ledger, "home_currency", "str", "(top)")
    instruments = _need(ledger, "instruments", "dict", "(top)")
    for name, spec in instruments.items():
        where = f"instruments.{name}"
        if not isinstance(spec, dict):
            raise LedgerError(f"ledger.json {where}: expected an object")
        for key in ("mid", "pip"):
            _need(spec, key, "decimal", where)
        _need(spec, "precision", "int", where)
    mids = {name: Decimal(spec["mid"]) for name, spec in instruments.items()}
    for name in instruments:
        try:
            home_factor(quote_currency(name), home, mids)
        except ConversionError as exc:
            raise LedgerError(f"ledger.json instruments.{name}: {exc}") from None
    for index, account in enumerate(_need(ledger, "accounts", "list", "(top)")):
        _check_account(account, f"accounts[{index}]", instruments)


def _check_account(account: object, where: str, instruments: dict) -> None:
    if not isinstance(account, dict):
        raise LedgerError(f"ledger.json {where}: expected an object")
    for key in ("id", "currency"):
        _need(account, key, "str", where)
    for key in ("balance", "margin_rate"):
        _need(account, key, "decimal", where)
    _need(account, "created_ms", "int", where, optional=True)
    for i, txn in enumerate(_need(account, "transactions", "list", where)):
        at = f"{where}.transactions[{i}]"
        if not isinstance(txn, dict):
            raise LedgerError(f"ledger.json {at}: expected an object")
        _need(txn, "id", "digits", at)
        _need(txn, "time_ms", "int", at)
        _need(txn, "type", "str", at)
        _need(txn, "pl", "decimal", at, optional=True)
        for j, closed in enumerate(_need(txn, "trades_closed", "list", at, optional=True) or []):
            _need(closed, "units", "decimal", f"{at}.trades_closed[{j}]")
            _need(closed, "realized_pl", "decimal", f"{at}.trades_closed[{j}]", optional=True)
    for i, trade in enumerate(_need(account, "open_trades", "list", where)):
        at = f"{where}.open_trades[{i}]"
        if not isinstance(trade, dict):
            raise LedgerError(f"ledger.json {at}: expected an object")
        _need(trade, "id", "digits", at)
        if _need(trade, "instrument", "str", at) not in instruments:
            raise LedgerError(f"ledger.json {at}.instrument: {trade['instrument']} is not listed")
        for key in ("units", "price"):
            _need(trade, key, "decimal", at)
