"""Net exposure per currency, valued in the home currency.

A position of u units of BASE_QUOTE is +u of BASE and -u x price of QUOTE. Each
currency's amount is valued in the home currency through whichever pair links the two.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal


def net_exposure(
    positions: dict[str, Decimal | int], mids: dict[str, Decimal], home: str = "USD"
) -> dict[str, Decimal]:
    """currency -> net exposure in `home` units; raises KeyError naming a missing price."""
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
    """How many `home` units one unit of `currency` is worth, from a direct or inverse pair."""
    if currency == home:
        return Decimal(1)
    if f"{currency}_{home}" in mids:
        return mids[f"{currency}_{home}"]
    if f"{home}_{currency}" in mids:
        return 1 / mids[f"{home}_{currency}"]
    raise KeyError(f"no {currency}_{home} or {home}_{currency} price to value {currency}")


def conversion_pairs(instruments: list[str], home: str = "USD") -> list[str]:
    """The USD majors needed to value every currency of these instruments in `home`."""
    majors = {
        "EUR": "EUR_USD",
        "GBP": "GBP_USD",
        "AUD": "AUD_USD",
        "NZD": "NZD_USD",
        "JPY": "USD_JPY",
        "CAD": "USD_CAD",
        "CHF": "USD_CHF",
    }
    needed = {c for i in instruments for c in i.split("_")} - {home}
    return sorted({majors[c] for c in needed if c in majors} | set(instruments))
