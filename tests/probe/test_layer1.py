"""Layer-1 judgments on hand-made observations: what is a finding, what is not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.test_config import ENV, GOOD
from tradeops.config import load_manifest
from tradeops.connectors.control_plane import BrokerHealth, Health
from tradeops.connectors.errors import BrokerError, ControlPlaneError, EventStoreError
from tradeops.connectors.event_store import Run
from tradeops.connectors.oanda import AccountSummary, Price
from tradeops.probe._layer1 import (
    Unjudged,
    broker_prices,
    broker_reachability,
    clock_skew,
    control_plane_health,
    event_store_writes,
)
from tradeops.probe._observe import Observed, StoreFacts

ACCOUNT = "101-004-1234567-001"
TUESDAY = datetime(2026, 11, 24, 9, tzinfo=UTC)
SATURDAY = datetime(2026, 11, 28, 12, tzinfo=UTC)


def manifest(tmp_path: Path):
    (tmp_path / "ops.toml").write_text(GOOD)
    return load_manifest(tmp_path / "ops.toml", ENV)


def ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def health(ok=True, latency_ms=5.0, at=TUESDAY, connected=True) -> Health:
    return Health(
        ok,
        "ok" if ok else "degraded",
        "1.4.2",
        at,
        "wal",
        at,
        [BrokerHealth(ACCOUNT, connected, at)],
        latency_ms,
    )


def summary() -> AccountSummary:
    d = Decimal("100000")
    return AccountSummary(d, d, Decimal(0), Decimal(0), d, Decimal("0.01"), "USD", 0, 0, "1")


def store(newest_ts: int, live: bool = True) -> StoreFacts:
    run = Run(
        "r-1",
        "mr-eurusd-01",
        "EUR_USD",
        ACCOUNT,
        "paper",
        10,
        newest_ts + 10**7,
        newest_ts - 1000,
        1,
        False,
        None,
        newest_ts,
        2,
    )
    return StoreFacts("wal", (2, newest_ts), [run] if live else [], {}, {}, [], {}, 0)


def observed(at: datetime, **parts) -> Observed:
    base = {"store": store(ms(at)), "health": health(at=at), "summaries": {ACCOUNT: summary()}}
    return Observed(at_ms=ms(at), **{**base, **parts})


def price(at: datetime, tradeable: bool = True) -> Price:
    return Price("EUR_USD", at, tradeable, Decimal("1.1"), Decimal("1.1002"))


def test_a_price_ten_minutes_old_is_stale_while_the_market_is_open(tmp_path):
    o = observed(TUESDAY, prices={ACCOUNT: [price(TUESDAY - timedelta(minutes=10))]})
    (finding,) = broker_prices(o, manifest(tmp_path))
    assert "price is 600 s old while the market is open" in finding.what
    assert (finding.where.account, finding.where.instrument) == (ACCOUNT, "EUR_USD")


def test_on_saturday_friday_s_untradeable_price_is_no_fault(tmp_path):
    friday_close = datetime(2026, 11, 27, 22, tzinfo=UTC)
    o = observed(SATURDAY, prices={ACCOUNT: [price(friday_close, tradeable=False)]})
    assert broker_prices(o, manifest(tmp_path)) == []


def test_prices_of_an_unreachable_account_are_left_to_broker_reachability(tmp_path):
    error = BrokerError("no answer within 5 s", kind="timeout", broker="b", account=ACCOUNT)
    o = observed(TUESDAY, summaries={ACCOUNT: error}, prices={ACCOUNT: error})
    assert isinstance(broker_prices(o, manifest(tmp_path)), Unjudged)
    (finding,) = broker_reachability(o, manifest(tmp_path))
    assert finding.severity == "P0"  # every account unreachable


def test_a_control_plane_that_refuses_is_p0_and_a_slow_one_p2(tmp_path):
    down = observed(TUESDAY, health=ControlPlaneError("refused the connection"))
    assert [f.severity for f in control_plane_health(down, manifest(tmp_path))] == ["P0"]
    slow = observed(TUESDAY, health=health(latency_ms=1500))
    (finding,) = control_plane_health(slow, manifest(tmp_path))
    assert finding.severity == "P2" and "took 1500 ms" in finding.what


def test_a_disconnected_account_in_health_is_a_finding(tmp_path):
    o = observed(TUESDAY, health=health(connected=False))
    (finding,) = broker_reachability(o, manifest(tmp_path))
    assert "disconnected in /api/health" in finding.what


def test_an_old_newest_event_matters_only_while_runs_are_live(tmp_path):
    old = ms(TUESDAY) - 300_000
    stalled = observed(TUESDAY, store=store(old))
    (finding,) = event_store_writes(stalled, manifest(tmp_path))
    assert "no event written for 300 s while 1 runs are live" in finding.what
    quiet = observed(TUESDAY, store=store(old, live=False))
    assert event_store_writes(quiet, manifest(tmp_path)) == []


def test_an_unreadable_store_is_p0(tmp_path):
    o = observed(TUESDAY, store=EventStoreError("no event store at /x"))
    (finding,) = event_store_writes(o, manifest(tmp_path))
    assert finding.severity == "P0" and "no event store at /x" in finding.what


def test_clock_skew_allows_the_health_call_s_own_latency(tmp_path):
    ahead = observed(TUESDAY, health=health(at=TUESDAY + timedelta(seconds=120)))
    (finding,) = clock_skew(ahead, manifest(tmp_path))
    assert "120.0 s ahead of ours" in finding.what
    close = observed(TUESDAY, health=health(at=TUESDAY + timedelta(seconds=5.5), latency_ms=800))
    assert clock_skew(close, manifest(tmp_path)) == []


def test_every_layer1_check_has_a_test_with_the_same_severity():
    import re

    from tests.suite_runner import REPO
    from tradeops.probe._layer1 import CHECKS, SEVERITY

    marked = {}
    for path in (REPO / "checks").rglob("test_*.py"):
        text = path.read_text()
        for level, name in re.findall(
            r'severity\(level="(P\d)"\)\n(?:@pytest[^\n]*\n)*def test_(\w+)', text
        ):
            marked[name] = level
    assert set(SEVERITY) == set(CHECKS)
    assert {check: marked.get(check) for check in CHECKS} == SEVERITY
