"""Every payload parser against generated payloads: a value is used or reported, never both.

Hypothesis writes one real WAL store per example with a hostile payload (wrong types,
huge or non-finite numbers, numeric-looking text, nesting, missing fields, non-JSON) and
checks the invariant each fact keeps: when `payload_problems` finds nothing wrong with a
field, the fact that reads it returns a usable Python value; when it names a problem,
that fact raises (or carries) a StoreValueError naming the same seq. No other exception,
ever, and nothing silently dropped.
"""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.storebuilder import ACCOUNT, NOW_MS, StoreBuilder
from tradeops.connectors.errors import StoreValueError
from tradeops.connectors.event_store import EventStore

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["", "1.5", "1e400", "-0", "NaN", "Infinity", "1.2.3", "12abc", "0x10"]),
)
VALUES = st.one_of(
    SCALARS,
    st.lists(SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=3), SCALARS, max_size=2),
)
RAW = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["{", "[]", "null", '"x"', "[" * 3000 + "]" * 3000, '{"units": NaN}']),
)


def payloads(fields: list[str]) -> st.SearchStrategy[str]:
    """A payload text: a JSON object with some of `fields` given hostile values, or raw text."""
    objects = st.fixed_dictionaries({}, optional={name: VALUES for name in fields}).map(json.dumps)
    return st.one_of(objects, objects, RAW)


def _store(
    payload: str, event: str, **cols: object
) -> tuple[EventStore, tempfile.TemporaryDirectory]:
    folder = tempfile.TemporaryDirectory()
    b = StoreBuilder(Path(folder.name) / "events.sqlite", now_ms=NOW_MS)
    b.run_started("r-1", ts=NOW_MS - 60_000)
    b.event(event, run_id="r-1", ts=NOW_MS - 1000, payload=payload, **cols)
    return EventStore(b.write()), folder


SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(payloads(["units", "price", "client_order_id", "broker_transaction_id"]))
def test_order_filled_units_are_summed_or_the_position_names_the_fill(payload):
    store, folder = _store(payload, "ORDER_FILLED")
    with folder, store:
        problems = [
            p
            for p in store.payload_problems(["ORDER_FILLED"])
            if "units" in p.problem or "payload" in p.problem
        ]
        position = store.net_positions()[(ACCOUNT, "EUR_USD")]
    if problems:
        assert isinstance(position, StoreValueError) and position.seq == 2
    else:
        assert isinstance(position, int) and abs(position) < 2**53


@SETTINGS
@given(payloads(["nav", "balance", "unrealized_pl", "margin_used"]))
def test_snapshot_navs_are_finite_decimals_or_named(payload):
    store, folder = _store(payload, "ACCOUNT_SNAPSHOT", account_id=ACCOUNT)
    with folder, store:
        bad = any(
            "`nav`" in p.problem or "payload" in p.problem
            for p in store.payload_problems(["ACCOUNT_SNAPSHOT"])
        )
        try:
            peak = store.nav_peak(ACCOUNT, NOW_MS - 3_600_000)
        except StoreValueError as exc:
            assert bad and exc.seq == 2
        else:
            assert not bad and isinstance(peak, Decimal) and peak.is_finite()


@SETTINGS
@given(payloads(["realized_pl", "units", "broker_trade_id"]))
def test_closed_trade_pl_is_summed_or_named(payload):
    store, folder = _store(payload, "TRADE_CLOSED")
    with folder, store:
        bad = any(
            "realized_pl" in p.problem or "payload" in p.problem
            for p in store.payload_problems(["TRADE_CLOSED"])
        )
        try:
            stats = store.trade_stats("mr-eurusd-01", NOW_MS - 3_600_000)
        except StoreValueError as exc:
            assert bad and exc.seq == 2
        else:
            assert not bad and stats.trades == 1 and math.isfinite(stats.total_pl)


@SETTINGS
@given(payloads(["mode", "heartbeat_interval_s", "scheduled_end_ts"]))
def test_run_started_fields_are_used_or_reported(payload):
    folder = tempfile.TemporaryDirectory()
    with folder:
        b = StoreBuilder(Path(folder.name) / "events.sqlite", now_ms=NOW_MS)
        path = b.run_started("r-1", payload=payload).write()
        with EventStore(path) as store:
            reported = " ".join(p.problem for p in store.payload_problems(["RUN_STARTED"]))
            run = store.run("r-1")
    assert run is not None
    if run.heartbeat_interval_s is None:
        assert "heartbeat_interval_s" in reported or "payload" in reported
    else:
        assert 1 <= run.heartbeat_interval_s <= 86_400
    if run.scheduled_end_ts is None:
        assert "scheduled_end_ts" in reported or "payload" in reported
    else:
        assert 946_684_800_000 <= run.scheduled_end_ts < 4_102_444_800_000


@SETTINGS
@given(payloads(["last_heartbeat_ts"]))
def test_stale_detections_are_read_or_named(payload):
    store, folder = _store(payload, "STALE_DETECTED")
    with folder, store:
        reported = store.payload_problems(["STALE_DETECTED"])
        try:
            [detection] = store.stale_detections(["r-1"])
        except StoreValueError as exc:
            assert reported and exc.seq == 2
        else:
            assert not reported and isinstance(detection.last_heartbeat_ts, int)


@SETTINGS
@given(payloads(["alert_id"]), st.sampled_from(["RECONCILIATION_ALERT", "PROMOTE_REQUESTED"]))
def test_alert_and_gate_ids_are_kept_or_named(payload, event):
    store, folder = _store(
        payload.replace("alert_id", "gate_id") if event == "PROMOTE_REQUESTED" else payload, event
    )
    with folder, store:
        reported = store.payload_problems([event])
        read = store.unresolved_alerts if event == "RECONCILIATION_ALERT" else store.pending_gates
        try:
            found = read()
        except StoreValueError as exc:
            assert reported and exc.seq == 2
        else:
            assert not reported and len(found) == 1


@SETTINGS
@given(
    st.one_of(
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.text(max_size=8),
        st.floats(allow_nan=False),
    )
)
def test_an_event_ts_is_believable_or_named(ts):
    folder = tempfile.TemporaryDirectory()
    with folder:
        b = StoreBuilder(Path(folder.name) / "events.sqlite", now_ms=NOW_MS)
        path = b.run_started("r-1").write()
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE events SET ts = ? WHERE seq = 1", (ts,))
        conn.close()
        with EventStore(path) as store:
            try:
                _, read = store.newest_event()  # type: ignore[misc]
            except StoreValueError as exc:
                assert exc.seq == 1 and exc.field == "ts"
            else:
                assert isinstance(read, int) and read >= 946_684_800_000
