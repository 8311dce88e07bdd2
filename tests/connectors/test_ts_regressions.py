"""ts_regressions against its definition, on generated stores: the one pass over neighbours
that answers "none" without the window function is never wrong.

The definition: among the last n events (by seq), each whose ts is an integer is measured
against the newest integer ts before it; it goes back when that is more than the
tolerance later. Hypothesis draws near-sorted and jittery histories, holes in seq and
text or real timestamps, so both the quick answer and the window function answer.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.storebuilder import NOW_MS, SCHEMA, StoreBuilder
from tradeops.connectors._store_books import TS_STEPS_BACK
from tradeops.connectors.event_store import EventStore

STEPS = st.lists(
    st.one_of(st.integers(0, 2_000), st.integers(-700, 0), st.integers(-5_000, 5_000)),
    min_size=1,
    max_size=12,
)


def reference(rows: list[tuple[int, object]], last_n: int, tolerance_ms: int) -> list[tuple]:
    found, newest = [], None
    for seq, ts in rows[-last_n:]:
        if type(ts) is not int:
            continue
        if newest is not None and newest - ts > tolerance_ms:
            found.append((seq, ts, newest))
        newest = ts if newest is None else max(newest, ts)
    return found[:100]


def store_of(steps: list[int], holes: set[int], odd: dict[int, object]) -> Path:
    """seq 1.. with ts stepping by `steps`; the seqs in `holes` deleted, `odd` ts replaced."""
    path = Path(tempfile.mkdtemp()) / "events.sqlite"
    builder, ts = StoreBuilder(path), NOW_MS
    for step in steps:
        ts += step
        builder.event("HEARTBEAT", ts=ts)
    builder.write()
    with sqlite3.connect(path) as conn:
        conn.executemany("DELETE FROM events WHERE seq = ?", [(s,) for s in holes])
        conn.executemany("UPDATE events SET ts = ? WHERE seq = ?", [(v, s) for s, v in odd.items()])
    return path


@st.composite
def histories(draw) -> tuple[list[int], set[int], dict[int, object]]:
    """Steps between timestamps, the seqs then deleted, the seqs given an odd ts."""
    steps = draw(STEPS)
    seqs = st.integers(1, len(steps))
    holes = draw(st.sets(seqs, max_size=3))
    odd = draw(
        st.dictionaries(seqs, st.sampled_from(["soon", "1795000009999", 1.5e12]), max_size=2)
    )
    return steps, holes, odd


# The edges, always tried: a step back one past the tolerance; one hidden by a hole.
@example(history=([1000, -1001], set(), {}), last_n=100, tolerance_ms=1_000)
@example(history=([1000, 0, -1500], {2}, {}), last_n=100, tolerance_ms=1_000)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=histories(),
    last_n=st.sampled_from([1, 2, 5, 100]),
    tolerance_ms=st.sampled_from([0, 500, 1_000]),
)
def test_the_regressions_are_the_definitions(history, last_n, tolerance_ms):
    path = store_of(*history)
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT seq, ts FROM events ORDER BY seq").fetchall()
    expected = reference(rows, last_n, tolerance_ms)
    assert EventStore(path).ts_regressions(last_n, tolerance_ms) == expected


def steps_back_say_none(path: Path, last_n: int = 100, tolerance_ms: int = 1_000) -> bool:
    with sqlite3.connect(path) as conn:
        params = {"n": last_n, "tolerance": tolerance_ms}
        return conn.execute(TS_STEPS_BACK, params).fetchone()[0] == 1


def test_the_quick_answer_is_given_for_a_history_in_order_or_within_the_tolerance():
    assert steps_back_say_none(store_of([10, 10, 10, 0, 10], set(), {}))
    assert steps_back_say_none(store_of([1000, -400, 300, -500, 900], set(), {}))  # 900 back


def test_the_window_function_decides_past_the_tolerance_a_hole_or_a_null(tmp_path):
    assert not steps_back_say_none(store_of([1000, -600, 100, -600], set(), {}))  # 1,200 back
    assert not steps_back_say_none(store_of([10, 10, 10, 10], {2}, {}))
    # A store whose ts column allows NULL (not the contract's, but a file may be anything).
    path = tmp_path / "events.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA.replace("ts           INTEGER NOT NULL", "ts INTEGER"))
        conn.executemany(
            "INSERT INTO events (seq, ts, type) VALUES (?, ?, 'HEARTBEAT')",
            [(1, NOW_MS + 5000), (2, None), (3, NOW_MS + 1000)],
        )
    assert not steps_back_say_none(path)
    assert EventStore(path).ts_regressions(100, 1_000) == [(3, NOW_MS + 1000, NOW_MS + 5000)]
