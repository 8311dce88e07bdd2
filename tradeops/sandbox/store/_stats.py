"""Paper-trading statistics per strategy, and the backtest table written from them.

The sandbox's "backtests" are the history's own realised figures (rounded, the drawdown
rounded up), so a tracking check with any sensible tolerance passes on a healthy store;
the tracking_drift strategy keeps the figures it was planned with instead.
"""

from __future__ import annotations

import math
from typing import Any

from tradeops.sandbox.store.model import MONEY, Strategy


class Stats:
    """Closed trades of one strategy in time order: counts, P&L, equity drawdown."""

    __slots__ = ("cum", "max_dd", "peak", "pl_sum", "sessions", "start", "trades", "wins")

    def __init__(self, start_equity: int = 0) -> None:
        self.sessions = self.trades = self.wins = self.pl_sum = self.cum = 0
        self.start = start_equity
        self.peak = start_equity
        self.max_dd = 0.0

    def add_session(self, pls: list[int]) -> None:
        """One run's realised P&L per trade (money integers), in order."""
        self.sessions += 1
        for pl in pls:
            self.trades += 1
            self.wins += pl > 0
            self.pl_sum += pl
            self.cum += pl
            equity = self.start + self.cum
            self.peak = max(self.peak, equity)
            if self.peak > 0:
                self.max_dd = max(self.max_dd, (self.peak - equity) / self.peak)


def planned(s: Strategy) -> dict[str, float]:
    """The figures a strategy was planned with (what its backtest promised)."""
    pair, units = s.pair, s.units
    win = pair.pl(units, 0, s.win_pips * pair.pip_int)
    loss = pair.pl(units, 0, -s.loss_pips * pair.pip_int)
    expected = s.win_rate * win + (1 - s.win_rate) * loss
    return {
        "trades_per_day": s.trades_per_day,
        "win_rate": s.win_rate,
        "avg_pl_per_trade": round(expected / MONEY, 2),
        "max_drawdown": 0.01,
    }


def realised(stats: Stats) -> dict[str, float]:
    """The figures of a strategy's paper trading."""
    return {
        "trades_per_day": round(stats.trades / stats.sessions, 2),
        "win_rate": round(stats.wins / stats.trades, 3),
        "avg_pl_per_trade": round(stats.pl_sum / stats.trades / MONEY, 2),
        # Rounded up, with a little headroom for the live session still to come.
        "max_drawdown": max(0.0001, math.ceil(stats.max_dd * 1.05 * 10_000) / 10_000),
    }


def backtests(
    strats: list[Strategy], stats: dict[str, Stats], tracking: Strategy | None
) -> list[dict[str, Any]]:
    """strategies.json: the contract's strategies array."""
    table = []
    for s in strats:
        st = stats[s.strategy_id]
        figures = planned(s) if s is tracking or st.trades == 0 else realised(st)
        table.append(
            {
                "strategy_id": s.strategy_id,
                "instrument": s.pair.name,
                "account_id": s.account,
                "mode": "paper",
                "scheduled": s.scheduled,
                "backtest": figures,
            }
        )
    return table
