"""Runs as streams of store rows, merged in time order window by window.

A run is a heartbeat schedule (arithmetic, never materialised whole) plus a short list of
"sparse" events: start, trades, stale detection, end. Each window asks every stream for
its events before a time, gives the sparse ones to the books in global time order (so
broker transaction ids follow time) and sorts the window's rows by ts. Memory is bounded
by one window, whatever the size of the store.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from operator import attrgetter, itemgetter

from tradeops.sandbox.store._books import Books, Trade, dumps
from tradeops.sandbox.store.model import Strategy

Row = tuple[int, str, str | None, int | None, str | None, str | None, str | None, str]

RAW, SUBMIT_OPEN, SUBMIT_CLOSE, FILL_OPEN, FILL_CLOSE, CLOSED, SNAPSHOT = range(7)
_HB = "HEARTBEAT"
_EMPTY = "{}"
_by_ts = attrgetter("ts")
_row_ts = itemgetter(0)


class Ev:
    """A sparse event: its payload is made when the books reach its moment."""

    __slots__ = ("op", "payload", "rs", "scope", "store", "trade", "ts", "type")

    def __init__(
        self,
        ts: int,
        type_: str,
        op: int = RAW,
        payload: str = _EMPTY,
        trade: Trade | None = None,
        scope: tuple[str | None, str | None, str | None] = (None, None, None),
        store: bool = True,
    ) -> None:
        self.ts = ts
        self.type = type_
        self.op = op
        self.payload = payload
        self.trade = trade
        self.scope = scope  # (strategy_id, instrument, account_id) of a platform event
        self.store = store
        self.rs: int | None = None


class Stream:
    """One run's (or the platform's) events, handed out in time order."""

    __slots__ = (
        "account_id",
        "instrument",
        "rs",
        "run_id",
        "seg",
        "segs",
        "sp",
        "sparse",
        "strategy_id",
    )

    def __init__(
        self,
        run_id: str | None,
        strategy: Strategy | None,
        segments: list[list[int]],
        sparse: list[Ev],
    ) -> None:
        self.run_id = run_id
        self.strategy_id = strategy.strategy_id if strategy else None
        self.instrument = strategy.pair.name if strategy else None
        self.account_id = strategy.account if strategy else None
        self.segs = segments  # [first_ts, step_ms, count] runs of heartbeats
        self.seg = 0
        self.sparse = sorted(sparse, key=_by_ts)  # stable: same-ts events keep their order
        self.sp = 0
        self.rs = 0

    def take(self, until: int, rows: list[Row], evs: list[Ev]) -> bool:
        """Append heartbeat rows and sparse events with ts < until; False once drained."""
        sparse, segs = self.sparse, self.segs
        while True:
            next_ts = sparse[self.sp].ts if self.sp < len(sparse) else until
            # Heartbeats at the same ms as a sparse event come first in run_seq.
            limit = min(next_ts + 1, until)
            while self.seg < len(segs):
                first, step, count = segs[self.seg]
                if first >= limit:
                    break
                n = min(count, (limit - 1 - first) // step + 1)
                self._heartbeats(rows, first, step, n)
                if n == count:
                    self.seg += 1
                else:
                    segs[self.seg] = [first + n * step, step, count - n]
                    break
            if self.sp >= len(sparse) or sparse[self.sp].ts >= until:
                break
            ev = sparse[self.sp]
            self.sp += 1
            if ev.store:
                self.rs += 1
                ev.rs = self.rs
            evs.append(ev)
        return self.seg < len(segs) or self.sp < len(sparse)

    def _heartbeats(self, rows: list[Row], first: int, step: int, n: int) -> None:
        rs = self.rs
        rid, sid, inst, acct = self.run_id, self.strategy_id, self.instrument, self.account_id
        # One comprehension per block: the heartbeats are nearly all of the store.
        rows.extend(
            [(first + j * step, _HB, rid, rs + j + 1, sid, inst, acct, _EMPTY) for j in range(n)]
        )
        self.rs = rs + n

    def row(self, ev: Ev, payload: str) -> Row:
        """The store row of one of this stream's sparse events."""
        if self.run_id is None:
            sid, inst, acct = ev.scope
            return (ev.ts, ev.type, None, None, sid, inst, acct, payload)
        return (
            ev.ts,
            ev.type,
            self.run_id,
            ev.rs,
            self.strategy_id,
            self.instrument,
            self.account_id,
            payload,
        )


class RunBuilder:
    """Assembles one run: start, heartbeats, trades, an optional stall, the end."""

    def __init__(
        self, run_id: str, strategy: Strategy, start: int, interval_s: int, scheduled_end: int
    ) -> None:
        self.run_id = run_id
        self.strategy = strategy
        self.start = start
        self.step = interval_s * 1000
        self.segments: list[list[int]] = []
        payload = {
            "mode": "paper",
            "heartbeat_interval_s": interval_s,
            "scheduled_end_ts": scheduled_end,
        }
        self.sparse = [Ev(start, "RUN_STARTED", payload=dumps(payload))]

    def heartbeats(self, last_ts: int, skip: tuple[int, int] | None = None) -> None:
        """Heartbeats at start + k*interval for k >= 1 up to last_ts, minus ks in skip."""
        count = max(0, (last_ts - self.start) // self.step)
        ranges = [(1, count + 1)]
        if skip:
            ranges = [(1, min(skip[0], count + 1)), (max(skip[1], 1), count + 1)]
        for lo, hi in ranges:
            if hi > lo:
                self.segments.append([self.start + lo * self.step, self.step, hi - lo])

    def heartbeat_ts(self, k: int) -> int:
        """The time of heartbeat number k."""
        return self.start + k * self.step

    def trade(
        self,
        rng: random.Random,
        trade: Trade,
        open_ts: int,
        close_ts: int | None,
        persisted: bool = True,
    ) -> None:
        """The events of one trade; close_ts None leaves it open."""
        side = "buy" if trade.units > 0 else "sell"
        self._leg(rng, trade, open_ts, side, SUBMIT_OPEN, FILL_OPEN, persisted)
        if close_ts is not None:
            other = "sell" if side == "buy" else "buy"
            fill_ts = self._leg(rng, trade, close_ts, other, SUBMIT_CLOSE, FILL_CLOSE, persisted)
            self.sparse.append(
                Ev(fill_ts + 1, "TRADE_CLOSED", CLOSED, trade=trade, store=persisted)
            )

    def _leg(
        self,
        rng: random.Random,
        trade: Trade,
        ts: int,
        side: str,
        submit: int,
        fill: int,
        persisted: bool,
    ) -> int:
        strength = round(rng.uniform(0.55, 0.95), 2)
        submit_ts = ts + rng.randint(20, 60)
        fill_ts = submit_ts + rng.randint(80, 400)
        self.sparse += [
            Ev(ts, "SIGNAL", payload=dumps({"side": side, "strength": strength})),
            Ev(submit_ts, "ORDER_SUBMITTED", submit, trade=trade),
            Ev(fill_ts, "ORDER_FILLED", fill, trade=trade, store=persisted),
        ]
        return fill_ts

    def stale(self, ts: int, last_heartbeat_ts: int) -> None:
        """The platform's own staleness detector fired for this run."""
        self.sparse.append(
            Ev(ts, "STALE_DETECTED", payload=dumps({"last_heartbeat_ts": last_heartbeat_ts}))
        )

    def end(self, ts: int, status: str, reason: str) -> None:
        """RUN_ENDED."""
        self.sparse.append(Ev(ts, "RUN_ENDED", payload=dumps({"status": status, "reason": reason})))

    def stream(self) -> Stream:
        """The run as a stream."""
        return Stream(self.run_id, self.strategy, self.segments, self.sparse)


def apply(books: Books, ev: Ev) -> str:
    """Give an event to the books at its moment; its payload."""
    op = ev.op
    if op == RAW:
        return ev.payload
    trade = ev.trade
    if op == SNAPSHOT:
        return books.snapshot(ev.scope[2] or "")
    assert trade is not None
    if op in (SUBMIT_OPEN, SUBMIT_CLOSE):
        return books.submit(trade, ev.ts, op == SUBMIT_CLOSE)
    if op in (FILL_OPEN, FILL_CLOSE):
        return books.fill(trade, ev.ts, op == FILL_CLOSE, ev.store)
    return books.closed(trade)


def drain(
    streams: Iterable[Stream],
    books: Books,
    insert: Callable[[list[Row]], None],
    start: int,
    window_ms: int,
) -> int:
    """Write every stream's events in time order, one window at a time; rows written."""
    active = list(streams)
    written = 0
    until = start
    while active:
        until += window_ms
        rows: list[Row] = []
        evs: list[tuple[Stream, Ev]] = []
        still = []
        for stream in active:
            mine: list[Ev] = []
            if stream.take(until, rows, mine):
                still.append(stream)
            evs += [(stream, ev) for ev in mine]
        active = still
        evs.sort(key=lambda pair: pair[1].ts)
        for stream, ev in evs:
            payload = apply(books, ev)
            if ev.store:
                rows.append(stream.row(ev, payload))
        # Stable: at equal ts heartbeats (appended first) stay ahead, as in run_seq.
        rows.sort(key=_row_ts)
        if rows:
            insert(rows)
            written += len(rows)
    return written
