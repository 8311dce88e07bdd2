"""What a built sandbox store and ledger say, read independently of the generator's code.

`Facts.problems()` names every healthy invariant that does not hold, so a fault test can
assert that exactly the intended one broke and nothing else did.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.sandbox._ledger_facts import fill_mismatch, ledger, pnl, schema, snapshots
from tradeops.exposure import net_exposure
from tradeops.sandbox.store.generator import BuildResult

DAY_MS = 86_400_000
REQUIRED = {
    "RUN_STARTED": {"mode", "heartbeat_interval_s", "scheduled_end_ts"},
    "HEARTBEAT": set(),
    "SIGNAL": {"side", "strength"},
    "ORDER_SUBMITTED": {"client_order_id", "units"},
    "ORDER_FILLED": {"client_order_id", "broker_transaction_id", "units", "price"},
    "TRADE_CLOSED": {"broker_trade_id", "units", "realized_pl"},
    "STALE_DETECTED": {"last_heartbeat_ts"},
    "RUN_ENDED": {"status", "reason"},
    "BROKER_DISCONNECTED": {"reason"},
    "BROKER_RECONNECTED": set(),
    "RECONCILIATION": {"divergent", "instruments"},
    "RECONCILIATION_ALERT": {"alert_id"},
    "RECONCILIATION_ALERT_RESOLVED": {"alert_id"},
    "PROMOTE_REQUESTED": {"gate_id", "to"},
    "PROMOTE_DECIDED": {"gate_id", "approved", "reason"},
    "ACCOUNT_SNAPSHOT": {"nav", "balance", "unrealized_pl", "margin_used"},
}
RUN_TYPES = set(list(REQUIRED)[:8])  # RUN_STARTED .. RUN_ENDED carry the run's columns


class Facts:
    """A read-only view of one build: the store through a `mode=ro` connection, the JSON files."""

    def __init__(self, result: BuildResult, now_ms: int) -> None:
        self.result = result
        self.now = now_ms
        self.con = sqlite3.connect(f"file:{result.store}?mode=ro", uri=True)
        self.ledger = json.loads(Path(result.ledger).read_text())
        self.strategies = json.loads(Path(result.strategies).read_text())
        self.accounts = {a["id"]: a for a in self.ledger["accounts"]}
        self._runs: dict[str, dict[str, Any]] | None = None

    def close(self) -> None:
        """Release the read connection."""
        self.con.close()

    def rows(self, sql: str, *args: object) -> list[tuple]:
        """Rows of a query."""
        return self.con.execute(sql, args).fetchall()

    def events(self, type_: str) -> list[tuple[int, int, str, int, str, str, str, dict]]:
        """(seq, ts, run_id, run_seq, strategy, instrument, account, payload) of one type."""
        found = self.rows(
            "SELECT seq, ts, run_id, run_seq, strategy_id, instrument, account_id, payload"
            " FROM events WHERE type = ? ORDER BY seq",
            type_,
        )
        return [(*row[:7], json.loads(row[7])) for row in found]

    def runs(self) -> dict[str, dict[str, Any]]:
        """Per run: start, scheduled end, interval, end status, heartbeat times."""
        if self._runs is None:
            self._runs = self._read_runs()
        return self._runs

    def _read_runs(self) -> dict[str, dict[str, Any]]:
        runs: dict[str, dict[str, Any]] = {}
        for _, ts, run_id, _, sid, _, _, p in self.events("RUN_STARTED"):
            runs[run_id] = {
                "start": ts,
                "strategy": sid,
                "end": p["scheduled_end_ts"],
                "interval_ms": p["heartbeat_interval_s"] * 1000,
                "status": None,
            }
        for _, _, run_id, _, _, _, _, p in self.events("RUN_ENDED"):
            runs[run_id]["status"] = p["status"]
        for run_id, last, count in self.rows(
            "SELECT run_id, max(ts), count(*) FROM events WHERE type = 'HEARTBEAT' GROUP BY run_id"
        ):
            runs[run_id]["last_hb"], runs[run_id]["beats"] = last, count
        return runs

    def live_runs(self) -> dict[str, dict[str, Any]]:
        """Runs that are running now."""
        return {
            k: r for k, r in self.runs().items() if r["status"] is None and r["end"] >= self.now
        }

    def net_positions(self) -> tuple[dict, dict]:
        """(store, broker) net units per (account, instrument), zero positions left out."""
        store: Counter = Counter()
        for _, _, _, _, _, inst, acct, p in self.events("ORDER_FILLED"):
            store[(acct, inst)] += p["units"]
        broker: Counter = Counter()
        for a in self.ledger["accounts"]:
            for t in a["open_trades"]:
                broker[(a["id"], t["instrument"])] += int(t["units"])
        return {k: v for k, v in store.items() if v}, {k: v for k, v in broker.items() if v}

    def ledger_fills(self) -> dict[tuple[str, str], dict]:
        """(account, transaction id) -> ORDER_FILL transaction."""
        return {
            (a["id"], tx["id"]): tx
            for a in self.ledger["accounts"]
            for tx in a["transactions"]
            if tx["type"] == "ORDER_FILL"
        }

    def account_state(self, account_id: str) -> tuple[Decimal, Decimal]:
        """(NAV, margin used) of an account now, marked at the ledger's mids."""
        mids = {k: Decimal(v["mid"]) for k, v in self.ledger["instruments"].items()}
        usd = {"USD": Decimal(1), "EUR": mids["EUR_USD"], "GBP": mids["GBP_USD"]}
        usd |= {"AUD": mids["AUD_USD"], "NZD": mids["NZD_USD"], "JPY": 1 / mids["USD_JPY"]}
        usd |= {"CAD": 1 / mids["USD_CAD"], "CHF": 1 / mids["USD_CHF"]}
        account = self.accounts[account_id]
        nav = Decimal(account["balance"])
        margin = Decimal(0)
        for t in account["open_trades"]:
            base, quote = t["instrument"].split("_")
            units = Decimal(t["units"])
            nav += (mids[t["instrument"]] - Decimal(t["price"])) * units * usd[quote]
            margin += abs(units) * usd[base] * Decimal(account["margin_rate"])
        return nav, margin

    def exposure_in_navs(self, account_id: str, gap: dict[str, str] | None = None) -> dict:
        """currency -> net exposure in NAVs of the account, at the ledger's mids moved by gap
        (USD-quoted instruments only: their move is the P&L per unit in USD)."""
        mids = {k: Decimal(v["mid"]) for k, v in self.ledger["instruments"].items()}
        units: dict[str, Decimal] = {}
        for t in self.accounts[account_id]["open_trades"]:
            units[t["instrument"]] = units.get(t["instrument"], Decimal(0)) + Decimal(t["units"])
        nav = self.account_state(account_id)[0]
        for instrument, move in (gap or {}).items():
            assert instrument.endswith("_USD")
            mids[instrument] += Decimal(move)
            nav += units.get(instrument, Decimal(0)) * Decimal(move)
        return {c: abs(v) / nav for c, v in net_exposure(units, mids).items()}

    def closeout(self, account_id: str) -> float:
        """OANDA's marginCloseoutPercent: (margin used / 2) / NAV."""
        nav, margin = self.account_state(account_id)
        return float(margin / 2 / nav)

    def drawdown(self, account_id: str) -> float:
        """How far the account's NAV now is below its peak ACCOUNT_SNAPSHOT NAV."""
        navs = [p["nav"] for *_, acct, p in self.events("ACCOUNT_SNAPSHOT") if acct == account_id]
        nav = float(self.account_state(account_id)[0])
        peak = max([*navs, nav])
        return 1 - nav / peak

    def paper(self, strategy_id: str) -> dict[str, float]:
        """The strategy's finished runs as trades per run (day) and win rate."""
        live = self.live_runs()
        runs = [k for k, r in self.runs().items() if r["strategy"] == strategy_id and k not in live]
        pls = [
            p["realized_pl"]
            for _, _, run_id, _, sid, _, _, p in self.events("TRADE_CLOSED")
            if sid == strategy_id and run_id not in live
        ]
        if not runs or not pls:
            return {}
        return {
            "trades_per_day": len(pls) / len(runs),
            "win_rate": sum(pl > 0 for pl in pls) / len(pls),
        }

    def problems(self) -> set[str]:
        """The names of every healthy invariant that does not hold."""
        return {name for name in INVARIANTS if self.broken(name)}

    def broken(self, invariant: str) -> bool:
        """Whether one named healthy invariant fails."""
        return _CHECKS[invariant](self)


def _order(f: Facts) -> bool:
    (backwards,) = f.rows(
        "SELECT count(*) FROM (SELECT ts, lag(ts) OVER (ORDER BY seq) AS prev FROM events)"
        " WHERE ts < prev"
    )[0]
    count, last = f.rows("SELECT count(*), max(seq) FROM events")[0]
    return backwards > 0 or count != last or count != f.result.events


def _payloads(f: Facts) -> bool:
    for type_, _seq, run_id, rs, sid, inst, acct, payload in f.rows(
        "SELECT type, seq, run_id, run_seq, strategy_id, instrument, account_id, payload"
        " FROM events WHERE type != 'HEARTBEAT'"
    ):
        body = json.loads(payload)
        if type_ not in REQUIRED or not REQUIRED[type_] <= set(body):
            return True
        scoped = None not in (run_id, rs, sid, inst, acct)
        if (type_ in RUN_TYPES) != scoped:
            return True
    return False


def _gap(f: Facts) -> bool:
    return bool(
        f.rows(
            "SELECT run_id FROM events WHERE run_id IS NOT NULL GROUP BY run_id"
            " HAVING count(*) != max(run_seq) OR min(run_seq) != 1"
        )
    )


def _stale(f: Facts) -> bool:
    live = f.live_runs()
    late = [r for r in live.values() if f.now - r.get("last_hb", r["start"]) > 3 * r["interval_ms"]]
    detected = [e for e in f.events("STALE_DETECTED") if e[2] in live]
    return bool(late or detected)


def _stall(f: Facts) -> bool:
    """A STALE_DETECTED in a finished run must follow a real pause, 5-20 s past the threshold."""
    runs = f.runs()
    for _, ts, run_id, _, _, _, _, p in f.events("STALE_DETECTED"):
        run = runs[run_id]
        if run["status"] is None:
            continue  # a live run's stall is the "stale" problem
        threshold = p["last_heartbeat_ts"] + 3 * run["interval_ms"]
        beats = [t for (t,) in f.rows(
            "SELECT ts FROM events WHERE run_id = ? AND type = 'HEARTBEAT' AND ts > ? ORDER BY ts",
            run_id, p["last_heartbeat_ts"])]  # fmt: skip
        if not 5_000 <= ts - threshold <= 20_000 or not beats or beats[0] <= ts:
            return True
    return False


def _residual(f: Facts) -> bool:
    return any(r["status"] is None and r["end"] < f.now for r in f.runs().values())


def _pending_gate(f: Facts) -> bool:
    asked = {e[7]["gate_id"] for e in f.events("PROMOTE_REQUESTED")}
    return bool(asked - {e[7]["gate_id"] for e in f.events("PROMOTE_DECIDED")})


def _unresolved_alert(f: Facts) -> bool:
    raised = {e[7]["alert_id"] for e in f.events("RECONCILIATION_ALERT")}
    return bool(raised - {e[7]["alert_id"] for e in f.events("RECONCILIATION_ALERT_RESOLVED")})


def _positions(f: Facts) -> bool:
    store, broker = f.net_positions()
    return store != broker


def _fills_missing(f: Facts) -> bool:
    stored = {(e[6], e[7]["broker_transaction_id"]) for e in f.events("ORDER_FILLED")}
    return bool(set(f.ledger_fills()) - stored)


def _tracking(f: Facts) -> bool:
    for s in f.strategies:
        paper, bt = f.paper(s["strategy_id"]), s["backtest"]
        if not s["scheduled"] or not paper:
            continue
        if abs(paper["trades_per_day"] - bt["trades_per_day"]) > 0.25 * bt["trades_per_day"]:
            return True
        if abs(paper["win_rate"] - bt["win_rate"]) > 0.1:
            return True
    return False


def _failed_runs(f: Facts) -> bool:
    since = f.now - 30 * DAY_MS
    ended = [r for r in f.runs().values() if r["status"] and r["start"] >= since]
    failed = [r for r in ended if r["status"] != "completed"]
    return len(failed) > 0.005 * len(ended)


def _slis(f: Facts) -> bool:
    """Reconnections < 30 s, gates decided < 15 s, no divergence, >= 99% heartbeats."""
    downs = f.events("BROKER_DISCONNECTED")
    ups = f.events("BROKER_RECONNECTED")
    if len(downs) != len(ups) or any(
        u[1] - d[1] >= 30_000 for d, u in zip(downs, ups, strict=True)
    ):
        return True
    asked = {e[7]["gate_id"]: e[1] for e in f.events("PROMOTE_REQUESTED")}
    if any(e[1] - asked[e[7]["gate_id"]] >= 15_000 for e in f.events("PROMOTE_DECIDED")):
        return True
    if any(e[7]["divergent"] for e in f.events("RECONCILIATION")):
        return True
    done = [r for r in f.runs().values() if r["status"]]
    expected = sum((r["end"] - r["start"]) // r["interval_ms"] for r in done)
    return sum(r.get("beats", 0) for r in done) < 0.99 * expected


_CHECKS = {
    "order": _order,
    "payloads": _payloads,
    "gap": _gap,
    "stale": _stale,
    "stall": _stall,
    "residual": _residual,
    "pending_gate": _pending_gate,
    "unresolved_alert": _unresolved_alert,
    "positions": _positions,
    "fills_missing": _fills_missing,
    "fill_mismatch": fill_mismatch,
    "ledger": ledger,
    "snapshots": snapshots,
    "schema": schema,
    "pnl": pnl,
    "tracking": _tracking,
    "drawdown": lambda f: any(f.drawdown(a) > 0.10 for a in f.accounts),
    "margin": lambda f: any(f.closeout(a) >= 0.2 for a in f.accounts),
    "failed_runs": _failed_runs,
    "wal": lambda f: f.rows("PRAGMA journal_mode")[0][0] != "wal",
    "slis": _slis,
}
INVARIANTS = tuple(_CHECKS)
