"""Today's live session, appended to a built history: running runs, open trades, live faults."""

from __future__ import annotations

import json
import math
import random
import sqlite3
from pathlib import Path
from typing import Any

from tradeops.sandbox.scenarios import ACCOUNTS
from tradeops.sandbox.store import _live_faults as lf
from tradeops.sandbox.store import _sqlite as _store
from tradeops.sandbox.store._books import Books, Trade
from tradeops.sandbox.store._history import tracking_strategy
from tradeops.sandbox.store._platform_events import alert, gate, hourly
from tradeops.sandbox.store._runs import Row, RunBuilder, Stream, drain
from tradeops.sandbox.store.model import (
    HOUR_MS,
    INITIAL_BALANCE,
    MONEY,
    PAIR_BY_NAME,
    StoreParams,
    Strategy,
    day_key,
    money_float,
    run_number_width,
    strategies,
)

MARGIN_ACCOUNT = ACCOUNTS[2]
CLOSEOUT_TARGET = 0.85  # margin_rate_raised: the account's marginCloseoutPercent
STALE_FOR_MS = 300_000  # the stale faults: the last heartbeat is 5 minutes old
SCHEDULED_FOR_MS = 8 * HOUR_MS  # live runs are scheduled to end 8 h after now
# Preferred scheduled-strategy positions for each live fault, kept apart where they can be.
_RUN_FAULTS = {"stale_run": 1, "stale_undetected": 4, "sequence_gap": 2, "fill_units_wrong": 5}


class _Live:
    """One live session being planned and appended."""

    def __init__(
        self, params: StoreParams, faults: frozenset[str], now_ms: int, state: dict[str, Any]
    ) -> None:
        self.p = params
        self.faults = faults
        self.now = now_ms
        self.start = now_ms - params.live_minutes * 60_000
        if self.start <= state["last_ts"]:
            raise ValueError(
                f"live_minutes={params.live_minutes} reaches back into the previous session "
                f"(history ends {state['last_ts']}, live session would start {self.start})"
            )
        self.step = params.heartbeat_interval_s * 1000
        self.strats = strategies(params.strategies)
        self.sched = [s for s in self.strats if s.scheduled]
        self.width = run_number_width(params.strategies)
        self.today = day_key(now_ms)
        self.tracking = tracking_strategy(self.strats) if "tracking_drift" in faults else None
        self.picks: dict[str, Strategy] = {}
        used: set[int] = set()
        for fault, position in _RUN_FAULTS.items():
            if fault in faults:
                self.picks[fault] = self._pick(position, used)
        self.extra = lf.extra_units(faults)
        if self.extra:
            self.picks["extra_long"] = lf.extra_long_pick(self.sched)
        if "pnl_misrecorded" in faults:
            self.picks["pnl_misrecorded"] = lf.pnl_pick(self.sched)
        self.faulty: dict[str, tuple[str, Trade]] = {}  # fault -> (run id, its trade)
        self.held: list[Trade] = []  # the session's trades still open at now
        self.notes: dict[str, Any] = {}

    def _pick(self, position: int, used: set[int]) -> Strategy:
        n = len(self.sched)
        for j in range(n):
            s = self.sched[(position + j) % n]
            if s.index not in used or len(used) >= n:
                used.add(s.index)
                return s
        return self.sched[position % n]

    def run_id(self, s: Strategy) -> str:
        """Today's run id of a strategy."""
        return f"r-{self.today}-{s.number:0{self.width}d}"

    def streams(self) -> list[Stream]:
        """Every scheduled strategy's running run, and the session's platform events."""
        scale = self._margin_scale()
        streams = [self._run(s, scale if s.account == MARGIN_ACCOUNT else 1) for s in self.sched]
        evs = hourly(self.start + 1_000, self.now - 5_000)
        live_ms = self.now - self.start
        if "pending_gate" in self.faults:
            s = self.sched[6 % len(self.sched)]
            gate_id = f"g-{self.today}-pending"
            evs += gate(self.now - min(20 * 60_000, live_ms // 2), s, gate_id, None)
            self.notes["pending_gate"] = {"gate_id": gate_id, "strategy_id": s.strategy_id}
        if "unresolved_alert" in self.faults:
            s = self.sched[7 % len(self.sched)]
            alert_id = f"ra-{self.today}-open"
            evs += alert(self.now - min(15 * 60_000, live_ms // 3), s, alert_id, None)
            self.notes["alert"] = {
                "alert_id": alert_id,
                "strategy_id": s.strategy_id,
                "account_id": s.account,
            }
        return [*streams, Stream(None, None, [], evs)]

    def _margin_scale(self) -> int:
        """How much to size up the margin account's open trades so the raise bites."""
        if "margin_rate_raised" not in self.faults:
            return 1
        notional = sum(s.units * s.pair.base_usd for s in self.sched if s.account == MARGIN_ACCOUNT)
        # Enough open notional that the raised rate stays at or under 0.5.
        nav = INITIAL_BALANCE / MONEY
        return max(1, math.ceil(2 * CLOSEOUT_TARGET * nav / 0.5 / max(notional, 1)))

    def _run(self, s: Strategy, scale: int) -> Stream:
        rng = random.Random(f"{self.p.seed}/live/{self.now}/{s.index}")
        start = self.start + s.index * 97 % 5_000
        run = RunBuilder(
            self.run_id(s), s, start, self.p.heartbeat_interval_s, self.now + SCHEDULED_FOR_MS
        )
        stale = s in (self.picks.get("stale_run"), self.picks.get("stale_undetected"))
        until = max(start + self.step, self.now - STALE_FOR_MS) if stale else self.now
        run.heartbeats(until)
        last_hb = start + (until - start) // self.step * self.step
        if stale:
            self.notes.setdefault("stale_last_heartbeat_ts", {})[run.run_id] = last_hb
        if s is self.picks.get("stale_run"):
            run.stale(min(last_hb + 3 * self.step + 10_000, self.now), last_hb)
        first, last = start + 5_000, (last_hb - 1_000 if stale else self.now - 3_000)
        hold = s.index % 5 != 4 or s is self.picks.get("fill_units_wrong") or scale > 1
        hold = hold and last - first >= 60_000
        self._trades(rng, run, s, first, last, hold, scale)
        return run.stream()

    def _trades(
        self,
        rng: random.Random,
        run: RunBuilder,
        s: Strategy,
        first: int,
        last: int,
        hold: bool,
        scale: int,
    ) -> None:
        drift = s is self.tracking
        per_day = s.trades_per_day * (3 if drift else 1)
        win_rate = 0.25 if drift else s.win_rate
        span = last - first
        closed = 0
        if span >= 240_000:
            closed = max(1, round(per_day * span / (self.p.session_hours * HOUR_MS)))
        extra = self.extra if s is self.picks.get("extra_long") else 0
        slots = closed + hold + bool(extra)
        if not slots:
            return
        slot = span / slots
        pair = s.pair
        for k in range(slots):
            open_ts = first + int(slot * (k + rng.uniform(0.05, 0.3)))
            sign = rng.choice((1, -1))
            cid = f"c-{run.run_id[2:]}-{k + 1}"
            if k < closed:
                trade = Trade(
                    s.account, pair, s.units * sign, pair.mid_int + rng.randint(-300, 300), cid
                )
                pips = s.win_pips if rng.random() < win_rate else -s.loss_pips
                trade.close_at(trade.open_price + sign * pips * pair.pip_int)
                if k == closed - 1 and s is self.picks.get("pnl_misrecorded"):
                    # The day's last close: later trades cannot deepen a drawdown from it.
                    trade.pl_error = lf.PL_ERROR
                    self.faulty["pnl_misrecorded"] = (run.run_id, trade)
                run.trade(rng, trade, open_ts, open_ts + int(slot * rng.uniform(0.2, 0.5)))
            elif extra and k == slots - 1:  # the extra long, filled and recorded normally
                trade = Trade(s.account, pair, extra, pair.mid_int + rng.randint(-30, 30), cid)
                self.faulty["extra_long"] = (run.run_id, trade)
                run.trade(rng, trade, open_ts, None)
            else:  # still open at now, close to the mid so NAV stays near the balance
                units = s.units * self._held_side(s, sign) * scale
                trade = Trade(s.account, pair, units, pair.mid_int + rng.randint(-30, 30), cid)
                if s is self.picks.get("fill_units_wrong"):
                    trade.store_units = units * 10
                run.trade(rng, trade, open_ts, None)
                self.held.append(trade)

    def _held_side(self, s: Strategy, drawn: int) -> int:
        """The side of a trade held at now: against its account's net on the pair, else the
        drawn one. A healthy account then holds at most one trade's units net per pair at
        any strategy count; drawn sides add up like a random walk (300 strategies on three
        accounts held 3.4x NAV of EUR, a false currency_exposure alarm)."""
        net = sum(t.units for t in self.held if t.account == s.account and t.pair is s.pair)
        return drawn if net == 0 else (-1 if net > 0 else 1)

    def append(self, directory: Path, books: Books) -> int:
        """Write the session into the store; rows written."""
        con = _store.open_append(directory / "events.sqlite")
        gap_run = self.run_id(self.picks["sequence_gap"]) if "sequence_gap" in self.faults else None
        written = 0

        def insert(rows: list[Row]) -> None:
            if gap_run and "gap" not in self.notes:
                mine = [i for i, r in enumerate(rows) if r[2] == gap_run and r[1] == "HEARTBEAT"]
                if mine:
                    index = mine[len(mine) // 2]
                    self.notes["gap"] = {"run_id": gap_run, "missing_run_seq": rows[index][3]}
                    del rows[index]  # the platform lost this event
            if "ts_backwards" in self.faults and "ts_backwards" not in self.notes:
                self.notes["ts_backwards"] = lf.splice_late(rows, self.now)
            con.executemany(_store.INSERT, rows)

        try:
            streams = self.streams()
            if "big_position" in self.faults and "extra_long" in self.faulty:
                lf.size_big_position(self.faulty["extra_long"][1], self.held, books)
            written = drain(streams, books, insert, self.start - 1, self.now - self.start + 2)
            self._locate(con, books)
            if "index_dropped" in self.faults:  # a migration that dropped an index
                con.execute("DROP INDEX events_type_ts")
                self.notes["index_dropped"] = {"index": "events_type_ts"}
        except BaseException:
            con.close()
            raise
        mode = _store.finish_append(con, "DELETE" if "wal_off" in self.faults else "WAL")
        self.notes["journal_mode"] = mode
        return written

    def _locate(self, con: sqlite3.Connection, books: Books) -> None:
        """Add the store seqs of the faults to the notes."""

        def seq_of(sql: str, *args: object) -> int | None:
            row = con.execute(sql, args).fetchone()
            return None if row is None else row[0]

        if "gap" in self.notes:
            gap = self.notes["gap"]
            gap["seq_after"] = seq_of(
                "SELECT seq FROM events WHERE run_id = ? AND run_seq = ?",
                gap["run_id"],
                gap["missing_run_seq"] + 1,
            )
        for fault in ("stale_run", "stale_undetected"):
            if fault in self.picks:
                self.notes[fault] = self.run_id(self.picks[fault])
        if books.mismatched:
            wrong = dict(books.mismatched[0])
            wrong["run_id"] = self.run_id(self.picks["fill_units_wrong"])
            rows = con.execute(
                "SELECT seq, payload FROM events WHERE run_id = ? AND type = 'ORDER_FILLED'",
                (wrong["run_id"],),
            ).fetchall()
            tx = wrong["broker_transaction_id"]
            wrong["seq"] = next(q for q, p in rows if json.loads(p)["broker_transaction_id"] == tx)
            self.notes["divergent"] = wrong
        lf.locate(con, self.faults, self.faulty, self.notes, self.now)

    def finish_books(self, books: Books, notes: dict[str, Any]) -> None:
        """Raise the margin rate (fault), and note where the money faults ended up."""
        if "margin_rate_raised" in self.faults:
            account = books.accounts[MARGIN_ACCOUNT]
            nav = account.state()[0]
            notional = sum(
                abs(int(t["units"])) * PAIR_BY_NAME[t["instrument"]].base_usd
                for t in account.open_trades.values()
            )
            account.margin_rate = f"{2 * CLOSEOUT_TARGET * nav / MONEY / notional:.4f}"
            nav, _, _, margin = account.state()
            self.notes["margin_rate_raised"] = {
                "account_id": MARGIN_ACCOUNT,
                "margin_rate": account.margin_rate,
                "closeout_percent": round(margin / 2 / nav, 4),
            }
        if self.extra and "big_position" in self.faults:
            self.notes["price_gap"] = lf.price_gap(books)
        if "drawdown" in notes:
            account = books.accounts[notes["drawdown"]["account_id"]]
            nav = account.state()[0]
            peak = max(account.peak_nav, nav)
            self.notes["drawdown"] = {
                **notes["drawdown"],
                "peak_nav": money_float(peak),
                "nav": money_float(nav),
                "drop": round(1 - nav / peak, 4),
            }

    def live_runs(self) -> list[dict[str, Any]]:
        """The live runs as sandbox.json lists them for the writer."""
        frozen = {self.picks.get("stale_run"), self.picks.get("stale_undetected")}
        return [
            {
                "run_id": self.run_id(s),
                "strategy_id": s.strategy_id,
                "instrument": s.pair.name,
                "account_id": s.account,
                "heartbeat_interval_s": self.p.heartbeat_interval_s,
                "heartbeats": s not in frozen,
            }
            for s in self.sched
        ]


def build_live(
    directory: Path,
    params: StoreParams,
    faults: frozenset[str],
    now_ms: int,
    state: dict[str, Any],
    history_ledger: Path,
) -> tuple[list[dict[str, Any]], dict[str, Any], int]:
    """Append today's session to directory's store and write its ledger.

    Returns (live runs, notes, rows written).
    """
    live = _Live(params, faults, now_ms, state)
    ledger = json.loads(history_ledger.read_text())
    books = Books.from_ledger(ledger, {k: int(v) for k, v in state["peaks"].items()})
    written = live.append(directory, books)
    live.finish_books(books, state["notes"])
    (directory / "ledger.json").write_text(json.dumps(books.to_ledger()))
    return live.live_runs(), live.notes, written
