"""The history: one run per strategy per weekday before today, and the platform around them.

Everything here depends only on (params, history faults, today), never on the time of day,
so the result can be cached and shared by every sandbox started on the same UTC day.
"""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path
from typing import Any

from tradeops.sandbox.scenarios import ACCOUNTS
from tradeops.sandbox.store import _sqlite as _store
from tradeops.sandbox.store._books import Books, Trade
from tradeops.sandbox.store._platform_events import platform_day
from tradeops.sandbox.store._runs import RunBuilder, Stream, drain
from tradeops.sandbox.store._stats import Stats, backtests
from tradeops.sandbox.store.model import (
    DAY_MS,
    HOUR_MS,
    INITIAL_BALANCE,
    MONEY,
    SESSION_OPEN_MS,
    StoreParams,
    Strategy,
    day_key,
    money_float,
    run_number_width,
    strategies,
)

DRAWDOWN_ACCOUNT = ACCOUNTS[1]
DRAWDOWN = 0.12  # how far the drawdown fault takes the account below its peak
DRAWDOWN_DAYS = 5
FAILING_EVERY = 20  # runs_failing: one run in 20 (5%) of the last 30 days fails
MISSING_EVERY = 45  # fills_missing: one trade in 45 (~2.2%) of the last 7 days unpersisted
RARE_FAILURE_EVERY = 1000  # healthy: one run in 1000 fails (0.1%, run success SLO is 99.5%)
PAUSE_EVERY = 97  # healthy: about one run in 100 stalls and the platform's detector fires
WINDOW_ROWS = 50_000  # rows held in memory at once while streaming the store out


def history_days(today_ms: int, days: int) -> list[int]:
    """Start of each weekday among the `days` calendar days before today, oldest first."""
    starts = [today_ms - k * DAY_MS for k in range(days, 0, -1)]
    return [d for d in starts if time.gmtime(d / 1000).tm_wday < 5]


def tracking_strategy(strats: list[Strategy]) -> Strategy:
    """The strategy the tracking_drift fault makes trade far from its backtest."""
    mean_reverting = [s for s in strats if s.scheduled and s.kind == "mr"]
    later = [s for s in mean_reverting if s.index >= 3]
    return (later or mean_reverting or strats)[0]


def _bresenham(counter: int, rate: float, phase: float) -> int:
    """How many events the counter-th step adds so that step n has about n * rate in all."""
    return math.floor((counter + 1) * rate + phase) - math.floor(counter * rate + phase)


class _History:
    """The state of one history build while it walks the days."""

    def __init__(self, params: StoreParams, faults: frozenset[str], today: int) -> None:
        self.p = params
        self.faults = faults
        self.today = today
        self.strats = strategies(params.strategies)
        self.sched = [s for s in self.strats if s.scheduled]
        self.days = history_days(today, params.days)
        self.books = Books(today - (params.days + 1) * DAY_MS)
        self.stats = {s.strategy_id: Stats(INITIAL_BALANCE) for s in self.strats}
        self.width = run_number_width(params.strategies)
        self.session_ms = int(params.session_hours * HOUR_MS)
        self.step_ms = params.heartbeat_interval_s * 1000
        self.tracking = tracking_strategy(self.strats) if "tracking_drift" in faults else None
        self.residual = self.sched[len(self.sched) // 2] if "residual_run" in faults else None
        self.day_counter = dict.fromkeys((s.strategy_id for s in self.strats), 0)
        self.win_counter = dict.fromkeys((s.strategy_id for s in self.strats), 0)
        self.runs = self.eligible_runs = self.window_trades = 0
        self.dd_peak: int | None = None
        self.notes: dict[str, Any] = {"failed_runs": [], "history_stalls": []}

    def plan_day(self, day: int, day_index: int) -> list[Stream]:
        """Every run of one day, plus its platform events, as streams."""
        paused_since = self.today - 7 * DAY_MS
        running = [s for s in self.strats if s.scheduled or day < paused_since]
        planned = [self._run(day, s) for s in running]
        if "drawdown" in self.faults and day_index >= len(self.days) - DRAWDOWN_DAYS:
            self._drawdown(day_index, [t for _, trades in planned for t in trades])
        for strategy, (_, trades) in zip(running, planned, strict=True):
            self.stats[strategy.strategy_id].add_session([t.pl for t in trades])
        streams = [builder.stream() for builder, _ in planned]
        rng = random.Random(f"{self.p.seed}/day/{day_key(day)}")
        streams.append(platform_day(rng, day, running, self.session_ms))
        return streams

    def _run(self, day: int, s: Strategy) -> tuple[RunBuilder, list[Trade]]:
        key = day_key(day)
        rng = random.Random(f"{self.p.seed}/run/{key}/{s.index}")
        run_id = f"r-{key}-{s.number:0{self.width}d}"
        start = day + SESSION_OPEN_MS + (s.index * 53 % 3600) * 1000 + rng.randint(0, 15_000)
        end = start + self.session_ms
        run = RunBuilder(run_id, s, start, self.p.heartbeat_interval_s, end)
        beats = self.session_ms // self.step_ms
        skip = None
        if self.runs % PAUSE_EVERY == 5 and beats >= 40:
            skip = self._stall(rng, run, beats)
        trades = self._trades(rng, run, s, start, end, skip)
        run.heartbeats(end, skip)
        status = "completed"
        if "runs_failing" in self.faults and day >= self.today - 30 * DAY_MS:
            self.eligible_runs += 1
            if self.eligible_runs % FAILING_EVERY == 4:
                status = "failed"
        if self.runs % RARE_FAILURE_EVERY == RARE_FAILURE_EVERY - 1:
            status = "failed"
        self.runs += 1
        if status == "failed":
            self.notes["failed_runs"].append(run_id)
        if s is self.residual and day == self.days[-1]:
            self.notes["residual_run"] = run_id  # the platform died before writing RUN_ENDED
        else:
            reason = "session end" if status == "completed" else "strategy process exited (1)"
            run.end(end + rng.randint(200, 900), status, reason)
        self.day_counter[s.strategy_id] += 1
        return run, trades

    def _stall(self, rng: random.Random, run: RunBuilder, beats: int) -> tuple[int, int]:
        """A heartbeat pause the platform's detector catches; heartbeats resume after it."""
        last = rng.randint(beats // 4, beats // 2)
        missing = 5 + math.ceil(25_000 / self.step_ms)
        last_ts = run.heartbeat_ts(last)
        run.stale(last_ts + 3 * self.step_ms + rng.randint(5_000, 20_000), last_ts)
        self.notes["history_stalls"].append(run.run_id)
        return last + 1, last + 1 + missing

    def _trades(
        self,
        rng: random.Random,
        run: RunBuilder,
        s: Strategy,
        start: int,
        end: int,
        skip: tuple[int, int] | None,
    ) -> list[Trade]:
        drift = s is self.tracking
        per_day = s.trades_per_day * (3 if drift else 1)
        win_rate = 0.25 if drift else s.win_rate
        phase = (s.index * 0.37) % 1
        n = _bresenham(self.day_counter[s.strategy_id], per_day, phase)
        quiet = (0, 0)
        if skip:  # no trading while the strategy is stalled
            quiet = (run.heartbeat_ts(skip[0] - 1) - 2_000, run.heartbeat_ts(skip[1]) + 2_000)
        trades = []
        slot = self.session_ms / max(n, 1)
        for k in range(n):
            open_ts = start + int(slot * (k + rng.uniform(0.05, 0.35)))
            close_ts = open_ts + int(slot * rng.uniform(0.2, 0.55))
            if close_ts + 2_000 >= end or (open_ts < quiet[1] and close_ts + 1_000 > quiet[0]):
                continue
            counter = self.win_counter[s.strategy_id]
            self.win_counter[s.strategy_id] += 1
            trade = self._trade(rng, run, s, k, win=_bresenham(counter, win_rate, phase) == 1)
            persisted = True
            if "fills_missing" in self.faults and open_ts >= self.today - 7 * DAY_MS:
                self.window_trades += 1
                persisted = self.window_trades % MISSING_EVERY != 5
            run.trade(rng, trade, open_ts, close_ts, persisted)
            trades.append(trade)
        return trades

    def _trade(self, rng: random.Random, run: RunBuilder, s: Strategy, k: int, win: bool) -> Trade:
        sign = rng.choice((1, -1))
        pair = s.pair
        trade = Trade(
            s.account,
            pair,
            s.units * sign,
            pair.mid_int + rng.randint(-600, 600),
            f"c-{run.run_id[2:]}-{k + 1}",
        )
        pips = s.win_pips if win else -s.loss_pips
        trade.close_at(trade.open_price + sign * round(pips * rng.uniform(0.9, 1.1) * 10))
        trade.win = win
        return trade

    def _drawdown(self, day_index: int, trades: list[Trade]) -> None:
        """Losing days for one account: losers absorb a fixed share of the planned fall."""
        account = self.books.accounts[DRAWDOWN_ACCOUNT]
        if self.dd_peak is None:
            self.dd_peak = account.peak_nav = max(account.peak_nav, account.balance)
            self.notes["drawdown_days"] = min(DRAWDOWN_DAYS, len(self.days))
        n_days = self.notes["drawdown_days"]
        step = day_index - (len(self.days) - n_days) + 1
        target = round(self.dd_peak * (1 - DRAWDOWN * step / n_days))
        mine = [t for t in trades if t.account == DRAWDOWN_ACCOUNT]
        if not mine:
            return
        losers = [t for t in mine if not t.win] or mine
        winners = sum(t.pl for t in mine if t not in losers)
        each = (target - account.balance - winners) / len(losers)
        for t in losers:
            t.win = False
            delta = each * t.pair.scale / (t.units * t.pair.quote_usd * MONEY)
            t.close_at(t.open_price + round(delta))

    def _window_ms(self, runs: int) -> int:
        """A time window holding about WINDOW_ROWS heartbeats, between a minute and an hour."""
        per_hour = max(runs, 1) * HOUR_MS / self.step_ms
        return int(min(HOUR_MS, max(60_000, HOUR_MS * WINDOW_ROWS / per_hour)))

    def run(self, directory: Path) -> dict[str, Any]:
        """Write the history store, ledger and strategies; the state the live part needs."""
        con = _store.open_bulk(directory / "events.sqlite")
        events = last_ts = 0
        try:
            for index, day in enumerate(self.days):
                streams = self.plan_day(day, index)
                events += drain(
                    streams,
                    self.books,
                    lambda rows: con.executemany(_store.INSERT, rows),
                    day,
                    self._window_ms(len(streams)),
                )
            row = con.execute("SELECT max(ts) FROM events").fetchone()
            last_ts = row[0] or 0
            _store.finish_bulk(con)
        except BaseException:
            con.close()
            raise
        (directory / "ledger.json").write_text(json.dumps(self.books.to_ledger()))
        table = backtests(self.strats, self.stats, self.tracking)
        (directory / "strategies.json").write_text(json.dumps(table, indent=1))
        return self._state(events, last_ts)

    def _state(self, events: int, last_ts: int) -> dict[str, Any]:
        notes = self.notes
        if self.tracking is not None:
            notes["tracking_drift"] = {"strategy_id": self.tracking.strategy_id}
        if "fills_missing" in self.faults:
            notes["fills_missing"] = {
                "missing": len(self.books.unpersisted),
                "transactions": [list(t) for t in self.books.unpersisted],
            }
        if self.dd_peak is not None:
            notes["drawdown"] = {
                "account_id": DRAWDOWN_ACCOUNT,
                "peak_nav": money_float(self.dd_peak),
            }
        last = self.days[-1] if self.days else None
        return {
            "events": events,
            "last_ts": last_ts,
            "previous_session": None
            if last is None
            else time.strftime("%Y-%m-%d", time.gmtime(last / 1000)),
            "peaks": {a.id: a.peak_nav for a in self.books.accounts.values()},
            "notes": notes,
        }


def build_history(
    directory: Path, params: StoreParams, faults: frozenset[str], today_ms: int
) -> dict[str, Any]:
    """Build the history into directory; the state (JSON-able) the live part starts from."""
    return _History(params, faults, today_ms).run(directory)
