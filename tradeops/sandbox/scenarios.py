"""The sandbox's named scenarios: one realistic failure each, and who must catch it.

This table is the single source: the docs render it (`python -m tradeops.sandbox
--table`) and the fault-matrix tests compare every run of the suite with it.

A scenario is a set of fault names; each sandbox part (store builder, writer, control
plane, broker simulator, manifest writer) applies the faults it knows and ignores the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

# Fault names, grouped by the sandbox part that applies them.
STORE_FAULTS = frozenset(
    {
        "stale_run",  # one live run stopped heartbeating 5 min ago; the detector fired
        "stale_undetected",  # the same, but the platform's detector never fired
        "sequence_gap",  # one live run lost one event (a hole in run_seq)
        "wal_off",  # the store runs in rollback-journal (DELETE) mode
        "residual_run",  # yesterday's run never wrote RUN_ENDED
        "pending_gate",  # a scheduled strategy's promote gate was never decided
        "unresolved_alert",  # a scheduled strategy has an unresolved reconciliation alert
        "fill_units_wrong",  # a fill recorded with 10x the units the broker filled
        "fills_missing",  # broker fills never persisted as ORDER_FILLED
        "tracking_drift",  # one strategy's paper results far from its backtest
        "drawdown",  # one account's NAV 12% below its peak
        "margin_rate_raised",  # the broker raised one account's margin rate
        "runs_failing",  # many runs ended "failed" in the last days
        "index_dropped",  # a migration dropped the events_type_ts index
        "ts_backwards",  # three events appended with timestamps 10 minutes in the past
        "big_position",  # account -001 opened an extra EUR_USD long today (<= 200,000)
        "oversized_position",  # account -001 opened an extra 450,000 EUR_USD long today
        "pnl_misrecorded",  # one of today's TRADE_CLOSED records 60 USD more than the broker
    }
)
# The store faults that change the history (so the cached history's key); the others touch
# only today's live session. The generator reads this list: a history fault left out of it
# would be missing from the cached history, so tests/sandbox/test_history_faults.py asks the
# history builder itself which faults change what it writes and compares with this list.
HISTORY_FAULTS = frozenset(
    {"residual_run", "fills_missing", "tracking_drift", "drawdown", "runs_failing"}
)
SERVICE_FAULTS = frozenset(
    {
        "control_plane_down",  # nothing listens at the control plane URL
        "control_plane_degraded",  # /api/health answers 200 with status "degraded"
        "summary_lies",  # /api/control/summary says green and nothing stale
        "broker_down",  # nothing listens at the broker URL
        "broker_hang",  # the broker accepts connections and never answers
        "broker_bad_token",  # broker "oanda-practice-b" token revoked: 401
        "broker_rate_limited",  # broker "oanda-practice-b" token gets 429, Retry-After 30
        "control_plane_slow",  # /api/health answers after 1.5 s (the latency budget is 1 s)
        "control_plane_clock_ahead",  # the control plane's clock runs 120 s ahead
        "prices_frozen",  # OANDA quotes stopped moving 10 minutes ago, still "tradeable"
        "price_gap",  # EUR_USD quotes gapped down: big_position loses ~5% of the NAV
        "writer_stopped",  # the platform stopped writing events 5 minutes ago
        "checkpoint_stalled",  # the writer never checkpoints: its WAL grew to ~16 MB
    }
)
FAULTS = STORE_FAULTS | SERVICE_FAULTS
assert HISTORY_FAULTS <= STORE_FAULTS

# The sandbox's brokers: two OANDA logins on one simulator, three accounts.
ACCOUNTS = ("101-004-1234567-001", "101-004-1234567-002", "101-004-1234567-003")
BROKERS = {"oanda-practice-a": ACCOUNTS[:2], "oanda-practice-b": ACCOUNTS[2:]}
FAULTY_BROKER = "oanda-practice-b"


@dataclass(frozen=True)
class Expect:
    """A check that must fail on the scenario, and the severity it must report."""

    check: str
    severity: str


@dataclass(frozen=True)
class Scenario:
    name: str
    wrong: str
    faults: frozenset[str]
    caught_by: tuple[Expect, ...]
    # Caught only while the FX market is open (price staleness is no fault when closed).
    market_hours_only: bool = False

    @property
    def failing_checks(self) -> dict[str, str]:
        """check id -> expected severity."""
        return {e.check: e.severity for e in self.caught_by}


def _s(
    name: str,
    wrong: str,
    faults: set[str],
    *caught: tuple[str, str],
    market_hours_only: bool = False,
) -> Scenario:
    unknown = set(faults) - FAULTS
    assert not unknown, f"scenario {name}: unknown faults {unknown}"
    expects = tuple(Expect(c, s) for c, s in caught)
    return Scenario(name, wrong, frozenset(faults), expects, market_hours_only)


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        _s("healthy", "nothing: every part healthy", set()),
        _s(
            "control-plane-down",
            "the control plane process is gone: connection refused",
            {"control_plane_down"},
            ("control_plane_health", "P0"),
            ("broker_reachability", "P0"),
        ),
        _s(
            "control-plane-degraded",
            '/api/health answers 200 but status "degraded"',
            {"control_plane_degraded"},
            ("control_plane_health", "P1"),
            ("broker_reachability", "P1"),
        ),
        _s(
            "broker-auth-failure",
            "broker oanda-practice-b's token was revoked: every call answers 401",
            {"broker_bad_token"},
            ("broker_reachability", "P1"),
        ),
        _s(
            "broker-rate-limited",
            "broker oanda-practice-b is rate limited: 429 with Retry-After 30 s",
            {"broker_rate_limited"},
            ("broker_reachability", "P1"),
        ),
        _s(
            "broker-hang",
            "the OANDA API accepts connections and never answers",
            {"broker_hang"},
            ("broker_reachability", "P0"),
        ),
        _s(
            "all-brokers-down",
            "the OANDA API is unreachable for every account",
            {"broker_down"},
            ("broker_reachability", "P0"),
        ),
        _s(
            "stale-heartbeat",
            "one live run stopped heartbeating 5 minutes ago",
            {"stale_run"},
            ("control_summary", "P1"),
            ("heartbeat_fresh", "P1"),
        ),
        _s(
            "sequence-gap",
            "one live run lost an event: a hole in its run_seq",
            {"sequence_gap"},
            ("control_summary", "P1"),
            ("no_gaps", "P1"),
        ),
        _s(
            "summary-disagrees",
            "the control summary says green while the store shows a stale run",
            {"stale_undetected", "summary_lies"},
            ("control_summary", "P1"),
            ("heartbeat_fresh", "P1"),
            ("stale_detector_agrees", "P2"),
        ),
        _s(
            "wal-off",
            "the event store runs in rollback-journal mode, not WAL",
            {"wal_off"},
            ("wal_mode", "P1"),
        ),
        _s(
            "residual-run",
            "a run from the last session never reached RUN_ENDED",
            {"residual_run"},
            ("residual_runs", "P1"),
        ),
        _s(
            "pending-promote-gate",
            "a scheduled strategy has a promote gate that was never decided",
            {"pending_gate"},
            ("strategy_readiness", "P2"),
            ("no_pending_gates", "P2"),
        ),
        _s(
            "unresolved-reconciliation-alert",
            "a scheduled strategy has an unresolved reconciliation alert",
            {"unresolved_alert"},
            ("strategy_readiness", "P1"),
            ("no_unresolved_alerts", "P1"),
        ),
        _s(
            "position-divergence",
            "a fill was recorded with 10x the broker's units: store and broker positions differ",
            {"fill_units_wrong"},
            ("positions_match_broker", "P1"),
        ),
        _s(
            "persistence-loss",
            "broker fills of the last days were never persisted as ORDER_FILLED",
            {"fills_missing"},
            ("slo[trade_persistence]", "P1"),
        ),
        _s(
            "tracking-drift",
            "one strategy's paper trading is far from its backtest",
            {"tracking_drift"},
            ("tracking_backtest", "P2"),
        ),
        _s(
            "drawdown-breach",
            "one account's NAV is 12% below its peak",
            {"drawdown"},
            ("drawdown", "P1"),
        ),
        _s(
            "margin-closeout-near",
            "the broker raised one account's margin rate: closeout percent near 1",
            {"margin_rate_raised"},
            ("margin_closeout", "P0"),
        ),
        _s(
            "budget-exhausted",
            "many runs ended failed this month: the run-success error budget is spent",
            {"runs_failing"},
            ("slo[run_success]", "P2"),
        ),
        _s(
            "control-plane-slow",
            "/api/health answers after 1.5 s (budget 1 s)",
            {"control_plane_slow"},
            ("control_plane_health", "P2"),
        ),
        _s(
            "clock-skew",
            "the platform's clock runs 120 s ahead",
            {"control_plane_clock_ahead"},
            ("clock_skew", "P2"),
        ),
        _s(
            "prices-stale",
            "OANDA prices stopped moving 10 minutes ago while the market is open",
            {"prices_frozen"},
            ("broker_prices", "P1"),
            market_hours_only=True,
        ),
        _s(
            "writer-stopped",
            "the platform stopped writing events 5 minutes ago",
            {"writer_stopped"},
            ("event_store_writes", "P1"),
            ("slo[heartbeat_delivery]", "P2"),
        ),
        _s(
            "schema-drift",
            "a migration dropped the events_type_ts index",
            {"index_dropped"},
            ("event_store_schema", "P2"),
        ),
        _s(
            "events-out-of-order",
            "three events were appended with timestamps 10 minutes in the past",
            {"ts_backwards"},
            ("event_store_sequence", "P2"),
        ),
        _s(
            "wal-growing",
            "checkpoints are stalled: the WAL file grew past the limit",
            {"checkpoint_stalled"},
            ("wal_growth", "P2"),
        ),
        _s(
            "daily-loss-breach",
            "EUR_USD gapped against a large long on account -001: today's loss about 5%",
            {"big_position", "price_gap"},
            ("daily_loss", "P1"),
        ),
        _s(
            "exposure-breach",
            "account -001 holds an oversized EUR_USD long: EUR exposure about 5x NAV",
            {"oversized_position"},
            ("currency_exposure", "P2"),
        ),
        _s(
            "pnl-mismatch",
            "the store recorded one of today's closed trades with realized P&L 60 USD off "
            "the broker's",
            {"pnl_misrecorded"},
            ("pnl_adds_up", "P2"),
        ),
    )
}


def scenario(name: str) -> Scenario:
    """The named scenario, or ValueError listing the names there are."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(
            f"unknown sandbox scenario {name!r}; choose one of: {', '.join(SCENARIOS)}"
        ) from None


def markdown_table(checks: list[str] | None = None) -> str:
    """The scenario table as Markdown, as the README shows it."""
    lines = [
        "| scenario | what is wrong | caught by (severity) |",
        "| --- | --- | --- |",
    ]
    for s in SCENARIOS.values():
        caught = [e for e in s.caught_by if checks is None or e.check in checks]
        text = ", ".join(f"`{e.check}` ({e.severity})" for e in caught)
        if not text:
            text = "every check passes" if not s.faults else "no pre-flight item"
        lines.append(f"| `{s.name}` | {s.wrong} | {text} |")
    return "\n".join(lines)
