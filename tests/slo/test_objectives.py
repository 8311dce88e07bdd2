"""Every store SLI on a small store, against a hand computation written next to it."""

from __future__ import annotations

from tests.slo.conftest import DAY, HOUR, MINUTE, SECOND, measured
from tests.storebuilder import ACCOUNT
from tradeops.slo.objectives import BrokerFill, BrokerFills

OTHER = "101-004-1234567-002"


def _ended(b, run_id, status, ts, payload=None):
    b.run_started(run_id, ts=ts - HOUR, scheduled_end_ts=ts)
    if payload is None:
        return b.run_ended(run_id, status, ts=ts)
    return b.event("RUN_ENDED", ts=ts, run_id=run_id, payload=payload)


def test_run_success_counts_ended_runs_in_the_window_and_only_completed_as_good(builder, now_ms):
    b = builder
    _ended(b, "r-1", "completed", now_ms - 10 * MINUTE)  # good, inside 30m
    _ended(b, "r-2", "completed", now_ms - 2 * HOUR)  # good
    _ended(b, "r-3", "completed", now_ms - 20 * DAY)  # good
    _ended(b, "r-4", "failed", now_ms - 20 * MINUTE)  # bad, inside 30m
    _ended(b, "r-5", "aborted", now_ms - 3 * HOUR)  # bad: aborted is not completed
    _ended(b, "r-6", None, now_ms - 4 * HOUR, payload='{"status": 5}')  # bad: unreadable
    _ended(b, "r-7", "failed", now_ms - 31 * DAY)  # outside the 30-day window
    _ended(b, "r-8", "failed", now_ms + HOUR)  # after now: not known yet
    m = measured(b.write(), "run_success", now_ms)
    # eligible r-1..r-6 = 6, bad r-4, r-5, r-6 = 3; last 30 min: r-1, r-4 (1 bad)
    assert (m.window.eligible, m.window.bad) == (6, 3)
    assert (m.alert_windows["30m"].eligible, m.alert_windows["30m"].bad) == (2, 1)
    assert (m.alert_windows["6h"].eligible, m.alert_windows["6h"].bad) == (5, 3)
    assert any("seq" in note and "status" in note for note in m.notes), m.notes


def test_reconciliation_divergence_counts_divergent_or_unreadable_as_bad(builder, now_ms):
    b = builder
    for minutes, payload in [
        (10, {"divergent": False, "instruments": []}),  # good
        (20, {"divergent": False, "instruments": []}),  # good
        (30, {"divergent": True, "instruments": ["EUR_USD"]}),  # bad
        (40, {"instruments": []}),  # bad: no verdict
        (8 * 24 * 60, {"divergent": True, "instruments": ["EUR_USD"]}),  # outside 7 d
    ]:
        b.event("RECONCILIATION", ts=now_ms - minutes * MINUTE, account_id=ACCOUNT,
                payload=payload)  # fmt: skip
    m = measured(b.write(), "reconciliation_divergence", now_ms)
    assert (m.window.eligible, m.window.bad) == (4, 2)


def test_heartbeat_delivery_owes_one_heartbeat_per_interval_of_each_runs_span(builder, now_ms):
    b = builder
    ten_s = 10 * SECOND
    # r-done: 1 h run, 360 slots, heartbeats 100..109 lost, ended 0.5 s after slot 360.
    start = now_ms - 2 * HOUR
    b.run_started("r-done", ts=start, scheduled_end_ts=start + HOUR)
    for k in range(1, 361):
        if not 100 <= k <= 109:
            b.heartbeat("r-done", ts=start + k * ten_s)
    b.run_ended("r-done", ts=start + HOUR + 500)
    # r-live: started 60 s ago, sent slots 1..3 of 6; slot 6 (due now) is not judged yet.
    live = now_ms - 60 * SECOND
    b.run_started("r-live", ts=live)
    for k in range(1, 4):
        b.heartbeat("r-live", ts=live + k * ten_s)
    # r-dead: scheduled for 30 min 3 h ago, sent 60 of 180 slots, never wrote RUN_ENDED.
    dead = now_ms - 3 * HOUR
    b.run_started("r-dead", ts=dead, scheduled_end_ts=dead + 30 * MINUTE)
    for k in range(1, 61):
        b.heartbeat("r-dead", ts=dead + k * ten_s)
    # r-edge: 60 s run straddling the window start (7 d ago + 30 s): slots 4..6 in window,
    # slot 5 lost.
    edge = now_ms - 7 * DAY - 30 * SECOND
    b.run_started("r-edge", ts=edge, scheduled_end_ts=edge + 60 * SECOND)
    for k in (1, 2, 3, 4, 6):
        b.heartbeat("r-edge", ts=edge + k * ten_s)
    b.run_ended("r-edge", ts=edge + 60 * SECOND + 100)
    # r-old: entirely before the window.
    old = now_ms - 8 * DAY
    b.run_started("r-old", ts=old, scheduled_end_ts=old + 60 * SECOND)
    b.run_ended("r-old", ts=old + 60 * SECOND)
    m = measured(b.write(), "heartbeat_delivery", now_ms)
    # owed:  r-done 360 + r-live 5 + r-dead 180 + r-edge 3 = 548
    # bad:   r-done 10  + r-live 2 + r-dead 120 + r-edge 1 = 133
    assert (m.window.eligible, m.window.bad) == (548, 133)
    # last 5 min: only r-live (5 owed, 2 missing)
    assert (m.alert_windows["5m"].eligible, m.alert_windows["5m"].bad) == (5, 2)


def test_stale_detection_latency_measures_from_the_staleness_threshold(builder, now_ms):
    b = builder
    b.run_started("r-1", ts=now_ms - HOUR, heartbeat_interval_s=10)
    # stale at last heartbeat + 3 x 10 s; good when detected within 30 s of that.
    for last_hb_ago, detected_ago in [(200, 150), (300, 230), (400, 340)]:
        b.event("STALE_DETECTED", ts=now_ms - detected_ago * SECOND, run_id="r-1",
                payload={"last_heartbeat_ts": now_ms - last_hb_ago * SECOND})  # fmt: skip
    b.event("STALE_DETECTED", ts=now_ms - 100 * SECOND, run_id="r-1", payload={})
    m = measured(b.write(), "stale_detection_latency", now_ms)
    # 200/150: stale at -170, 20 s late: good.  300/230: stale at -270, 40 s: bad.
    # 400/340: stale at -370, exactly 30 s: good. The unreadable one: bad.
    assert (m.window.eligible, m.window.bad) == (4, 2)


def _gate(b, gate_id, asked, answered=None):
    b.event("PROMOTE_REQUESTED", ts=asked, strategy_id="mr-eurusd-01",
            payload={"gate_id": gate_id, "to": "live"})  # fmt: skip
    if answered is not None:
        b.event("PROMOTE_DECIDED", ts=answered, strategy_id="mr-eurusd-01",
                payload={"gate_id": gate_id, "approved": True, "reason": "ok"})  # fmt: skip


def test_promote_gate_latency_judges_pending_gates_once_they_are_late(builder, now_ms):
    b = builder
    _gate(b, "g-1", now_ms - HOUR, now_ms - HOUR + 10 * SECOND)  # 10 s: good
    _gate(b, "g-2", now_ms - 2 * HOUR, now_ms - 2 * HOUR + 20 * SECOND)  # 20 s: bad
    _gate(b, "g-3", now_ms - 3 * HOUR)  # pending for 3 h: bad
    _gate(b, "g-4", now_ms - 5 * SECOND)  # pending for 5 s: not judged yet
    _gate(b, "g-5", now_ms - 4 * HOUR, now_ms - 4 * HOUR + 15 * SECOND)  # exactly 15 s: good
    _gate(b, "g-6", now_ms - 31 * DAY, now_ms - 31 * DAY + HOUR)  # outside 30 d
    m = measured(b.write(), "promote_gate_latency", now_ms)
    assert (m.window.eligible, m.window.bad) == (4, 2)


def test_broker_reconnection_times_each_outage_from_its_first_disconnect(builder, now_ms):
    b = builder

    def down(account, ago_s):
        b.event("BROKER_DISCONNECTED", ts=now_ms - ago_s * SECOND, account_id=account,
                payload={"reason": "stream timeout"})  # fmt: skip

    def up(account, ago_s):
        b.event("BROKER_RECONNECTED", ts=now_ms - ago_s * SECOND, account_id=account)

    down("A", 7200), down("A", 7195), up("A", 7155)  # one outage of 45 s (repeat): bad
    down("A", 3600), up("A", 3590)  # 10 s: good
    down("B", 10800), up("B", 10770)  # exactly 30 s: good
    down("C", 600)  # still down after 600 s: bad
    down("D", 10)  # down for 10 s: not judged yet
    m = measured(b.write(), "broker_reconnection", now_ms)
    assert (m.window.eligible, m.window.bad) == (4, 2)


def a_run_with_a_fill(b, now_ms: int, transaction_id: str):
    """A run started 9 days ago, still scheduled, with one ORDER_FILLED of that id."""
    b.run_started("r-1", ts=now_ms - 9 * DAY, scheduled_end_ts=now_ms + HOUR)
    return b.fill("r-1", 1000, transaction_id=transaction_id)


def persistence(b, now_ms: int, *fills: tuple[str, str, int]):
    """Trade persistence of the built store against broker fills (account, id, age)."""
    b.write()
    broker = BrokerFills(tuple(BrokerFill(acct, id_, now_ms - age) for acct, id_, age in fills))
    return measured(b.path, "trade_persistence", now_ms, fills=broker)


def test_trade_persistence_matches_broker_fills_to_order_filled_by_account_and_id(builder, now_ms):
    b = a_run_with_a_fill(builder, now_ms, "11")
    payload = {"client_order_id": "c-2", "broker_transaction_id": 12, "units": 5, "price": "1.1"}
    b.event("ORDER_FILLED", run_id="r-1", payload=payload)  # the contract allows a numeric id
    b.fill("r-1", 1000, transaction_id="15")
    m = persistence(
        b, now_ms,
        (ACCOUNT, "11", HOUR),  # persisted
        (ACCOUNT, "12", HOUR),  # persisted (numeric id in the store)
        (ACCOUNT, "13", 2 * HOUR),  # lost
        (OTHER, "11", 3 * HOUR),  # lost: "11" is the other account's
        (ACCOUNT, "14", 30 * SECOND),  # younger than the grace
        (ACCOUNT, "15", 8 * DAY),  # outside 7 d
    )  # fmt: skip
    assert (m.window.eligible, m.window.bad) == (4, 2)


def test_a_malformed_order_filled_does_not_hide_the_lost_fills_of_its_account(builder, now_ms):
    # A row with no usable broker_transaction_id matches no fill. (SQL's NOT IN against a
    # list holding NULL is NULL, not true: it once made every lost fill of that account
    # count as persisted, a false green.)
    b = a_run_with_a_fill(builder, now_ms, "11")
    payload = {"client_order_id": "c-2", "units": 5, "price": "1.1"}  # no transaction id
    b.event("ORDER_FILLED", run_id="r-1", payload=payload)
    m = persistence(
        b, now_ms, (ACCOUNT, "11", HOUR), (ACCOUNT, "12", HOUR), (ACCOUNT, "13", 2 * HOUR)
    )  # the first persisted, the other two lost
    assert (m.window.eligible, m.window.bad) == (3, 2)
    assert any("lacks `broker_transaction_id`" in note for note in m.notes), m.notes


def test_fills_are_matched_by_account_and_id_whatever_characters_they_hold(builder, now_ms):
    # The match key is the account's length, ':', the account, then the id: no pair of
    # (account, id) strings can spell another pair's key.
    b = a_run_with_a_fill(builder, now_ms, "2:x")
    m = persistence(
        b, now_ms,
        (ACCOUNT, "2:x", HOUR),  # persisted
        (ACCOUNT + "2", ":x", HOUR),  # lost: another account's key text
        (ACCOUNT[:-1], ACCOUNT[-1] + "2:x", HOUR),  # lost likewise
    )  # fmt: skip
    assert (m.window.eligible, m.window.bad) == (3, 2)


def test_trade_persistence_without_readable_broker_fills_is_an_error_not_a_number(builder, now_ms):
    path = builder.event("HEARTBEAT").write()
    m = measured(path, "trade_persistence", now_ms, fills=BrokerFills(errors=("401 on A",)))
    assert m.errors == ("cannot read broker fills: 401 on A",)


def test_a_missing_store_is_an_error_measurement_naming_the_file(tmp_path, now_ms):
    m = measured(tmp_path / "nope.sqlite", "run_success", now_ms)
    assert m.errors and "nope.sqlite" in m.errors[0]


def test_an_empty_store_measures_zero_events_in_every_window(builder, now_ms):
    path = builder.write()
    for name in ("run_success", "heartbeat_delivery", "broker_reconnection"):
        m = measured(path, name, now_ms)
        assert m.window.eligible == 0 and not m.errors
        assert all(c.eligible == 0 for c in m.alert_windows.values())
