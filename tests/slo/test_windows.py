"""Window boundaries and --ops-as-of, as properties over generated small stores.

"now" is pinned once per test with freezegun (outside @given); each example builds its own
store file in a fresh temporary directory.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.slo.conftest import DAY, FROZEN_AT, MINUTE, SECOND, measured
from tests.storebuilder import StoreBuilder

WINDOW = 30 * DAY  # run_success's window
PROPERTY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Offsets from now (ms, negative = past) clustered around the window's edges.
edges = st.one_of(
    st.integers(-WINDOW - 3, -WINDOW + 3),
    st.integers(-3, 3),
    st.integers(-WINDOW - DAY, DAY),
)


def _now() -> int:
    with freeze_time(FROZEN_AT):
        return int(time.time() * 1000)


NOW = _now()


@PROPERTY
@given(ends=st.lists(st.tuples(edges, st.booleans()), max_size=25))
def test_the_window_holds_exactly_the_events_after_its_start_up_to_now(ends):
    with tempfile.TemporaryDirectory() as folder:
        b = StoreBuilder(Path(folder) / "events.sqlite", now_ms=NOW)
        for i, (offset, ok) in enumerate(ends):
            b.run_started(f"r-{i}", ts=NOW + offset - MINUTE, scheduled_end_ts=NOW + offset)
            b.run_ended(f"r-{i}", "completed" if ok else "failed", ts=NOW + offset)
        m = measured(b.write(), "run_success", NOW)
    inside = [ok for offset, ok in ends if -WINDOW < offset <= 0]
    assert m.window.eligible == len(inside)
    assert m.window.bad == inside.count(False)
    last_5m = [ok for offset, ok in ends if -5 * MINUTE < offset <= 0]
    assert (m.alert_windows["5m"].eligible, m.alert_windows["5m"].bad) == (
        len(last_5m),
        last_5m.count(False),
    )


# Gates: (asked offset, latency or None for never decided), within the last hour.
gates = st.lists(
    st.tuples(st.integers(-3600, 0), st.one_of(st.none(), st.integers(0, 60))),
    max_size=12,
)


@PROPERTY
@given(gates=gates, as_of_ago_s=st.integers(0, 3600))
def test_as_of_a_past_instant_equals_the_store_as_it_was_then(gates, as_of_ago_s):
    as_of = NOW - as_of_ago_s * SECOND
    with tempfile.TemporaryDirectory() as folder:
        full = StoreBuilder(Path(folder) / "full.sqlite", now_ms=NOW)
        then = StoreBuilder(Path(folder) / "then.sqlite", now_ms=as_of)
        for i, (asked_s, latency_s) in enumerate(gates):
            asked = NOW + asked_s * SECOND
            events = [("PROMOTE_REQUESTED", asked, {"gate_id": f"g-{i}", "to": "live"})]
            if latency_s is not None:
                answer = {"gate_id": f"g-{i}", "approved": True, "reason": "ok"}
                events.append(("PROMOTE_DECIDED", asked + latency_s * SECOND, answer))
            for kind, ts, payload in events:
                full.event(kind, ts=ts, strategy_id="s", payload=payload)
                if ts <= as_of:
                    then.event(kind, ts=ts, strategy_id="s", payload=payload)
        past = measured(full.write(), "promote_gate_latency", as_of)
        truth = measured(then.write(), "promote_gate_latency", as_of)
    assert past == truth
