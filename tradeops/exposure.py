"""Net exposure per currency, valued in the account's own currency.

A position of u units of BASE_QUOTE is +u of BASE and -u x price of QUOTE. Each
currency's amount is converted to the account currency (the contract, section 5) with
the mid of the direct pair (EUR_USD for EUR in a USD account), else the inverse pair
(USD_JPY for JPY), else through USD in two legs, each direct or inverse (GBP in a JPY
account: GBP_USD, then USD_JPY). A currency with no such path is the suite's inability
to judge (`NoConversionPath`), never a platform fault.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

PIVOT = "USD"
# OANDA names a pair base-first by this precedence (EUR_USD, GBP_JPY, AUD_CAD, USD_SGD);
# a currency not listed sorts after CHF and before JPY.
_PRECEDENCE = ("EUR", "GBP", "AUD", "NZD", "USD", "CAD", "SGD", "CHF")
_LAST = ("JPY",)

# instrument names -> their mids; raises RefusedInstruments when the broker does not
# offer one of the names (OANDA answers 400 for the whole call).
Fetch = Callable[[list[str]], dict[str, Decimal]]


class NoConversionPath(LookupError):
    """No priced pair converts a currency to the account currency: the suite cannot judge."""


class RefusedInstruments(LookupError):
    """Raised by a Fetch: the broker does not offer one of the instruments asked for."""


def net_exposure(
    positions: dict[str, Decimal | int], mids: dict[str, Decimal], home: str = "USD"
) -> dict[str, Decimal]:
    """currency -> net exposure in `home` units; NoConversionPath naming what is missing."""
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for instrument, units in positions.items():
        base, quote = instrument.split("_")
        amounts[base] += Decimal(units)
        amounts[quote] -= Decimal(units) * mids[instrument]
    return {
        currency: amount * home_rate(currency, mids, home)
        for currency, amount in amounts.items()
        if amount
    }


def home_rate(currency: str, mids: dict[str, Decimal], home: str = "USD") -> Decimal:
    """How many `home` units one unit of `currency` is worth: direct, inverse, via USD."""
    if currency == home:
        return Decimal(1)
    rate = _leg(currency, home, mids)
    if rate is not None:
        return rate
    to_pivot, from_pivot = _leg(currency, PIVOT, mids), _leg(PIVOT, home, mids)
    if PIVOT not in (currency, home) and to_pivot is not None and from_pivot is not None:
        return to_pivot * from_pivot
    raise NoConversionPath(
        f"no price converts {currency} to the account currency {home}: "
        f"tried {currency}_{home}, {home}_{currency} and through {PIVOT}"
    )


def _leg(currency: str, home: str, mids: dict[str, Decimal]) -> Decimal | None:
    if currency == home:
        return Decimal(1)
    if f"{currency}_{home}" in mids:
        return mids[f"{currency}_{home}"]
    if mids.get(f"{home}_{currency}"):
        return 1 / mids[f"{home}_{currency}"]
    return None


def pair_name(one: str, other: str) -> str:
    """The OANDA name of the pair of two currencies: pair_name("JPY", "USD") == "USD_JPY"."""

    def rank(currency: str) -> tuple[int, str]:
        if currency in _PRECEDENCE:
            return (_PRECEDENCE.index(currency), "")
        return (len(_PRECEDENCE) + (2 if currency in _LAST else 1), currency)

    first, second = sorted((one, other), key=rank)
    return f"{first}_{second}"


def conversion_pairs(instruments: list[str], home: str = "USD") -> list[str]:
    """The instruments whose prices value every currency of these in `home`.

    For each foreign currency: the pair with `home`, and the two legs through USD (in
    case that pair is not offered), named as OANDA names them; plus the instruments
    themselves.
    """
    currencies = {c for i in instruments for c in i.split("_")} - {home}
    wanted = set(instruments)
    for currency in currencies:
        wanted.add(pair_name(currency, home))
        for one, other in ((currency, PIVOT), (PIVOT, home)):
            if one != other:
                wanted.add(pair_name(one, other))
    return sorted(wanted)


def account_exposure(positions: dict[str, int], home: str, fetch: Fetch) -> dict[str, Decimal]:
    """Net exposure of an account's positions in its currency, asking `fetch` for prices.

    One pricing call for every instrument that may be needed. A broker refuses the whole
    call when one name is not an instrument it offers (OANDA: 400); then each name is
    asked alone and the refused ones are left out, so a missing cross falls back to USD.
    """
    positions = {name: units for name, units in positions.items() if units}
    if not positions:
        return {}
    wanted = conversion_pairs(list(positions), home)
    try:
        mids = fetch(wanted)
    except RefusedInstruments:
        mids = fetch(sorted(positions))
        for name in sorted(set(wanted) - set(positions)):
            try:
                mids.update(fetch([name]))
            except RefusedInstruments:
                continue  # not offered: the path through USD may still be there
    return net_exposure(positions, mids, home)
