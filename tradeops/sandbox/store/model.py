"""The sandbox platform's fixed model: pairs, accounts, strategies and money arithmetic.

Money is kept as integers of 1/10000 of the account currency (USD) so the ledger, the
store and every sum agree to the last digit; prices are integers at the pair's precision.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from tradeops.sandbox.scenarios import ACCOUNTS

MONEY = 10_000  # money integers are 1e-4 USD
INITIAL_BALANCE = 100_000 * MONEY
MARGIN_RATE = "0.0333"
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
SESSION_OPEN_MS = 8 * HOUR_MS  # history sessions open at ~08:00 UTC


@dataclass(frozen=True)
class StoreParams:
    """How big a store to build; the defaults are the sandbox's."""

    days: int = 30
    strategies: int = 30
    heartbeat_interval_s: int = 10
    session_hours: float = 8.0
    live_minutes: int = 60
    seed: int = 20261124

    def __post_init__(self) -> None:
        checks = {
            "days": self.days >= 1,
            "strategies": self.strategies >= 1,
            "heartbeat_interval_s": 1 <= self.heartbeat_interval_s <= 3600,
            # Sessions open ~08:00-09:00 UTC and must close before midnight.
            "session_hours": 0 < self.session_hours <= 14,
            "live_minutes": self.live_minutes >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"StoreParams.{name}={getattr(self, name)!r} is out of range")


@dataclass(frozen=True)
class Pair:
    """One OANDA instrument with a fixed mid price and its conversions to USD."""

    name: str
    mid: str
    precision: int
    base_usd: float  # one unit of the base currency in USD (margin)
    quote_usd: float  # one unit of the quote currency in USD (profit and loss)

    @property
    def pip(self) -> str:
        """The pip size as OANDA writes it."""
        return "0.01" if self.precision == 3 else "0.0001"

    @property
    def scale(self) -> int:
        """Price integers per 1.0 of price."""
        return 10**self.precision

    @property
    def mid_int(self) -> int:
        """The mid price as an integer at the pair's precision."""
        return round(float(self.mid) * self.scale)

    @property
    def pip_int(self) -> int:
        """One pip in price integers (both 5- and 3-digit pairs quote a tenth of a pip)."""
        return 10

    def price_str(self, price: int) -> str:
        """A price integer as OANDA's decimal string."""
        return f"{price / self.scale:.{self.precision}f}"

    def price_float(self, price: int) -> float:
        """A price integer as a JSON number for the store's payloads."""
        return round(price / self.scale, self.precision)

    def pl(self, units: int, open_price: int, close_price: int) -> int:
        """Profit or loss in money integers of `units` opened and closed at these prices."""
        # Quote currency to USD at a fixed rate: a deliberate copy of the conversion the
        # suite does (tradeops/exposure.py), kept apart so the two are checked one by the other.
        return round((close_price - open_price) * units * self.quote_usd * MONEY / self.scale)

    def margin(self, units: int, rate: float) -> int:
        """Margin used in money integers by a position of `units` at `rate`."""
        return round(abs(units) * self.base_usd * rate * MONEY)


_EURUSD, _GBPUSD, _USDJPY = 1.08415, 1.26830, 151.245
PAIRS: tuple[Pair, ...] = (
    Pair("EUR_USD", "1.08415", 5, _EURUSD, 1.0),
    Pair("GBP_USD", "1.26830", 5, _GBPUSD, 1.0),
    Pair("USD_JPY", "151.245", 3, 1.0, 1 / _USDJPY),
    Pair("AUD_USD", "0.65870", 5, 0.65870, 1.0),
    Pair("USD_CAD", "1.36520", 5, 1.0, 1 / 1.36520),
    Pair("USD_CHF", "0.88240", 5, 1.0, 1 / 0.88240),
    Pair("NZD_USD", "0.60110", 5, 0.60110, 1.0),
    Pair("EUR_GBP", "0.85481", 5, _EURUSD, _GBPUSD),
    Pair("EUR_JPY", "163.975", 3, _EURUSD, 1 / _USDJPY),
)
PAIR_BY_NAME = {p.name: p for p in PAIRS}

# Strategy kinds cycle with the index; each kind's planned edge: trades per day,
# win rate, and take-profit / stop-loss distances in pips.
_KINDS = {
    "mr": (6.0, 0.55, 10, 8),
    "tf": (3.0, 0.44, 18, 10),
    "bo": (2.0, 0.47, 20, 12),
}
KIND_ORDER = ("mr", "tf", "bo")
ACCOUNT_ALIASES = ("mr-strategies", "tf-strategies", "bo-strategies")


@dataclass(frozen=True)
class Strategy:
    """A strategy's fixed identity and planned trading behaviour."""

    index: int
    strategy_id: str
    kind: str
    pair: Pair
    account: str
    scheduled: bool
    units: int
    trades_per_day: float
    win_rate: float
    win_pips: int
    loss_pips: int

    @property
    def number(self) -> int:
        """The 1-based number in the id (mr-eurusd-01 is 1)."""
        return self.index + 1


def strategies(count: int) -> list[Strategy]:
    """The model's strategies: i trades pair i % 9 on account i % 3; every tenth is paused."""
    width = max(2, len(str(count)))
    result = []
    for i in range(count):
        kind = KIND_ORDER[i % 3]
        pair = PAIRS[i % len(PAIRS)]
        tpd, win_rate, win_pips, loss_pips = _KINDS[kind]
        result.append(
            Strategy(
                index=i,
                strategy_id=f"{kind}-{pair.name.replace('_', '').lower()}-{i + 1:0{width}d}",
                kind=kind,
                pair=pair,
                account=ACCOUNTS[i % len(ACCOUNTS)],
                scheduled=i % 10 != 9,
                units=10_000 * (1 + (i // 3) % 3),
                trades_per_day=tpd + 0.25 * (i % 4),
                win_rate=round(win_rate + 0.01 * (i % 5), 2),
                win_pips=win_pips,
                loss_pips=loss_pips,
            )
        )
    return result


def run_number_width(count: int) -> int:
    """Digits of the strategy number in run ids (r-20261124-07)."""
    return max(2, len(str(count)))


def money_str(value: int) -> str:
    """A money integer as the ledger's decimal string with four places."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), MONEY)
    return f"{sign}{whole}.{frac:04d}"


def money_float(value: int) -> float:
    """A money integer as a JSON number for the store's payloads."""
    return round(value / MONEY, 4)


def parse_money(text: str) -> int:
    """A ledger decimal string back to a money integer."""
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    return sign * (int(whole) * MONEY + int((frac + "0000")[:4]))


def day_key(ms: int) -> str:
    """20261124 for the UTC day containing ms."""
    return time.strftime("%Y%m%d", time.gmtime(ms / 1000))
