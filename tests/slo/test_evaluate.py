"""All eight SLOs from a manifest (a real broker simulator process for the fills), and the
promote gate's decision on them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox.conftest import account, new_token, order_and_fill, start_broker
from tests.slo.conftest import DAY, HOUR, MINUTE
from tests.storebuilder import ACCOUNT, NOW_MS, StoreBuilder
from tradeops.config import SLO_DEFAULTS, SloConfig, load_manifest
from tradeops.connectors.event_store import EventStore
from tradeops.connectors.oanda import OandaBroker
from tradeops.slo.budget import Counts
from tradeops.slo.evaluate import evaluate, fetch_fills, gate
from tradeops.slo.history import ProbeHistory
from tradeops.slo.result import SloResult

TOKEN_ENV = "TRADEOPS_TEST_SLO_BROKER"
TOKEN = new_token()
SECOND_ACCOUNT = "101-004-1234567-002"


def _ledger() -> dict:
    """Account 001: four fills in the last 7 days (ids 2, 4, 6, 8) and one 9 days ago."""
    times = [NOW_MS - 9 * DAY, NOW_MS - 3 * HOUR, NOW_MS - 2 * HOUR, NOW_MS - HOUR,
             NOW_MS - 30 * MINUTE]  # fmt: skip
    txns = [
        t
        for i, at in enumerate(times)
        for t in order_and_fill(2 * i + 1, at, "EUR_USD", 1000, "1.08000", "100000.0000")
    ]
    ledger = {
        "home_currency": "USD",
        "instruments": {"EUR_USD": {"mid": "1.08415", "pip": "0.0001", "precision": 5}},
        "accounts": [
            account(ACCOUNT, "100000.0000", txns, []),
            account(SECOND_ACCOUNT, "100000.0000", [], []),
        ],
    }
    for acct in ledger["accounts"]:
        acct["created_ms"] = NOW_MS - 30 * DAY
    return ledger


@pytest.fixture(scope="module")
def broker_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sim = start_broker(
        tmp_path_factory.mktemp("broker"), _ledger(), {TOKEN: [ACCOUNT, SECOND_ACCOUNT]}
    )
    yield sim.url
    sim.stop()


def _manifest(tmp_path: Path, broker_url: str, store: Path):
    path = tmp_path / "ops.toml"
    path.write_text(f"""
[control_plane]
url = "http://127.0.0.1:9"

[event_store]
path = "{store}"

[[brokers]]
name = "oanda-test"
url = "{broker_url}"
token_env = "{TOKEN_ENV}"
accounts = ["{ACCOUNT}", "{SECOND_ACCOUNT}"]
timeout_s = 2

[slo.run_success]
min_events = 2
""")
    return load_manifest(path, {TOKEN_ENV: TOKEN})


def test_every_slo_is_evaluated_from_the_store_the_history_and_the_broker(tmp_path, broker_url):
    # No freezegun here: the broker client's deadlines must see a clock that moves.
    now_ms = NOW_MS
    b = StoreBuilder(tmp_path / "events.sqlite", now_ms=now_ms)
    b.run_started("r-1", ts=now_ms - 4 * HOUR, scheduled_end_ts=now_ms + HOUR)
    b.fill("r-1", 1000, transaction_id="4")  # fills 4 and 8 persisted; 6 lost
    b.fill("r-1", 1000, transaction_id="8")
    b.run_started("r-0", ts=now_ms - 2 * DAY, scheduled_end_ts=now_ms - DAY)
    b.run_ended("r-0", "failed", ts=now_ms - DAY)
    b.run_started("r-00", ts=now_ms - 3 * DAY, scheduled_end_ts=now_ms - 2 * DAY)
    b.run_ended("r-00", "completed", ts=now_ms - 2 * DAY)
    manifest = _manifest(tmp_path, broker_url, b.write())
    history = ProbeHistory(tmp_path / "h.sqlite")
    history.record(now_ms - MINUTE, True, 3.0)

    brokers = {b.name: OandaBroker(b.name, b.url, b.token, b.timeout_s) for b in manifest.brokers}
    try:
        fills = fetch_fills(brokers, manifest, now_ms)
    finally:
        for client in brokers.values():
            client.close()
    assert not fills.errors
    assert sorted(int(f.id) for f in fills.fills) == [4, 6, 8, 10]
    with EventStore.from_config(manifest.event_store) as store:
        results = {r.name: r for r in evaluate(manifest, now_ms, store=store, history=history,
                                               fills=fills)}  # fmt: skip

    assert list(results) == list(SLO_DEFAULTS)
    persistence = results["trade_persistence"]
    # fills 4, 6, 8 judged (10 is 30 min old: judged too; grace is 60 s): 4 and 8 stored
    assert (persistence.window.eligible, persistence.window.bad) == (4, 2)
    assert results["run_success"].window == Counts(2, 1)
    assert results["run_success"].verdict == "exhausted"  # 1 of 2 failed at 99.5%
    assert results["control_plane_availability"].window == Counts(1, 0)
    assert results["promote_gate_latency"].verdict == "insufficient data"


def test_an_unreachable_account_makes_trade_persistence_unmeasurable(tmp_path):
    now_ms = NOW_MS
    store = StoreBuilder(tmp_path / "events.sqlite", now_ms=now_ms).write()
    manifest = _manifest(tmp_path, "http://127.0.0.1:9", store)
    brokers = {b.name: OandaBroker(b.name, b.url, b.token, b.timeout_s) for b in manifest.brokers}
    fills = fetch_fills(brokers, manifest, now_ms)
    assert len(fills.errors) == 2 and not fills.fills
    assert all(TOKEN not in e for e in fills.errors)


def result(
    name: str,
    window: Counts,
    *,
    errors=(),
    config: SloConfig | None = None,
    **alert_windows: Counts,
) -> SloResult:
    """A hand-made result: `window` over the SLO's default window (or `config`'s)."""
    config = config or SLO_DEFAULTS[name]
    return SloResult(name, name.replace("_", " "), "P2", config, NOW_MS, window,
                     alert_windows, tuple(errors))  # fmt: skip


def test_the_gate_fails_naming_the_slo_whose_budget_is_exhausted():
    decision = gate([
        result("run_success", Counts(600, 30)),  # 5% failed at 99.5%: exhausted
        result("heartbeat_delivery", Counts(100_000, 10)),  # fine
    ])  # fmt: skip
    assert not decision.passed
    (finding,) = decision.blocking
    assert finding.what.startswith("run success: error budget exhausted (freeze): 30 bad of 600")
    assert decision.blocked_by == ("run success (budget exhausted: freeze)",)


def test_the_gate_fails_on_a_page_level_burn_even_with_budget_left():
    burning = {"1h": Counts(100, 50), "5m": Counts(10, 5)}
    decision = gate([result("run_success", Counts(10_000, 20), **burning)])  # 40% used
    assert not decision.passed
    assert "page 1h/5m" in decision.blocking[0].what
    assert decision.blocked_by == ("run success (page 1h/5m)",)


def test_the_gate_fails_closed_when_an_sli_cannot_be_measured():
    decision = gate([result("trade_persistence", Counts(), errors=("broker timed out",))])
    assert decision.blocking[0].what == "trade persistence: cannot be measured: broker timed out"
    assert decision.blocked_by == ("trade persistence (cannot be measured)",)


def test_insufficient_data_passes_the_gate_by_default_but_says_so():
    few = [result("promote_gate_latency", Counts(3, 3)), result("run_success", Counts(1000, 0))]
    open_gate = gate(few)
    assert open_gate.passed
    assert "insufficient data: 3 eligible events" in open_gate.notes[0]
    assert "not blocking" in open_gate.notes[0]
    assert not gate(few, insufficient_data_blocks=True).passed


def test_the_gate_never_opens_on_no_evidence():
    nothing = [result("promote_gate_latency", Counts(3, 3)), result("run_success", Counts(2, 0))]
    closed = gate(nothing)
    assert not closed.passed
    assert closed.blocked_by == (
        "no SLI could be judged: every SLO has insufficient data or no SLO ran",
    )
    assert not gate([]).passed


def test_a_required_slo_with_insufficient_data_closes_the_gate_naming_it():
    required = dataclasses.replace(SLO_DEFAULTS["promote_gate_latency"], required=True)
    few = result("promote_gate_latency", Counts(3, 3), config=required)
    decision = gate([few, result("run_success", Counts(1000, 0))])
    assert not decision.passed
    assert decision.blocked_by == ("promote gate latency (insufficient data) (required)",)


def test_a_half_spent_budget_passes_the_gate_with_a_warning():
    decision = gate([result("run_success", Counts(1000, 3))])  # 3 of 5 allowed: 60%
    assert decision.passed
    assert decision.notes == ("run success: 60% of the error budget used (warning at 50%): "
                              "3 bad of 1000 eligible",)  # fmt: skip


def test_a_result_survives_the_trip_to_the_controller_as_json():
    original = SloResult("run_success", "run success", "P2", SloConfig(0.995, 30), NOW_MS,
                         Counts(10, 1), {"1h": Counts(2, 1)}, ("e",), ("n",))  # fmt: skip
    assert SloResult.from_json(original.to_json()) == original
