"""Error budgets, the 50%/100% policy and burn-rate alerts, by hand and by property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeops.config import SloConfig
from tradeops.slo.budget import (
    ALERT_RULES,
    EXHAUSTED,
    INSUFFICIENT,
    OK,
    PAGE,
    TICKET,
    WARNING,
    Counts,
    budget,
    burn_alerts,
    burn_rate,
    judge,
)

objectives = st.sampled_from([0.9, 0.99, 0.995, 0.999, 0.9999])


def test_the_budget_is_one_minus_the_objective_times_the_eligible_events():
    b = budget(0.999, Counts(eligible=10_000, bad=4))
    assert b.allowed == pytest.approx(10.0)
    assert b.consumed == pytest.approx(0.4)
    assert b.remaining == pytest.approx(0.6)
    assert b.actual == pytest.approx(0.9996)
    assert b.state == OK


def test_the_source_example_is_off_ten_misses_of_10k_at_999_is_the_whole_budget():
    # "50% of the weekly budget = 10 missed events out of 10k" at 99.9%: the whole budget
    # is (1 - 0.999) x 10 000 = 10 events, so 10 misses is 100% (freeze), 5 is 50%.
    assert budget(0.999, Counts(10_000, 10)).consumed == pytest.approx(1.0)
    assert budget(0.999, Counts(10_000, 10)).state == EXHAUSTED
    assert budget(0.999, Counts(10_000, 5)).consumed == pytest.approx(0.5)
    assert budget(0.999, Counts(10_000, 5)).state == WARNING


@pytest.mark.parametrize(
    ("bad", "state"),
    [(0, OK), (4, OK), (5, WARNING), (9, WARNING), (10, EXHAUSTED), (400, EXHAUSTED)],
)
def test_the_policy_warns_at_half_the_budget_and_freezes_at_all_of_it(bad, state):
    # 99% of 1000 events: a budget of exactly 10 bad events.
    assert budget(0.99, Counts(1000, bad)).state == state


def test_too_few_events_is_insufficient_data_neither_green_nor_exhausted():
    b = budget(0.995, Counts(eligible=19, bad=19), min_events=20)
    assert b.state == INSUFFICIENT
    assert budget(0.995, Counts(eligible=20, bad=0), min_events=20).state == OK


def test_a_window_with_no_events_consumes_nothing_and_has_no_actual():
    b = budget(0.99, Counts(0, 0), min_events=20)
    assert (b.allowed, b.consumed, b.remaining, b.actual) == (0.0, 0.0, 1.0, None)
    assert b.state == INSUFFICIENT
    assert budget(0.99, Counts(0, 0), min_events=0).state == OK


@pytest.mark.parametrize(
    ("window_days", "factors"),
    [(30, (14.4, 6.0, 1.0)), (7, (3.36, 1.4, 0.7 / 3))],
)
def test_burn_factors_scale_to_the_slo_window_for_the_same_share_of_budget(window_days, factors):
    assert [r.factor(window_days) for r in ALERT_RULES] == pytest.approx(list(factors))
    # 1 h at 14.4 is 2% of a 30-day budget; 1 h at 3.36 is 2% of a 7-day one.
    shares = [
        r.factor(window_days) * r_long_h / (window_days * 24)
        for r, r_long_h in zip(ALERT_RULES, (1, 6, 72), strict=True)
    ]
    assert shares == pytest.approx([0.02, 0.05, 0.10])


def test_a_burn_rate_is_the_bad_ratio_over_the_allowed_ratio():
    assert burn_rate(0.99, Counts(100, 5)) == pytest.approx(5.0)
    assert burn_rate(0.99, Counts(0, 0)) is None


def _windows(**bad_of_100: int) -> dict[str, Counts]:
    return {name: Counts(100, bad) for name, bad in bad_of_100.items()}


def test_a_page_fires_only_when_both_windows_of_the_pair_burn_too_fast():
    # 30-day SLO at 99%: page above 14.4, i.e. more than 14.4 bad in 100.
    both = burn_alerts(0.99, 30, _windows(**{"1h": 15, "5m": 20, "6h": 0, "30m": 0, "3d": 0}))
    assert [(a.pair, a.firing) for a in both if a.firing] == [("1h/5m", True)]
    long_only = burn_alerts(0.99, 30, _windows(**{"1h": 15, "5m": 14}))
    assert not any(a.firing for a in long_only)
    no_short_events = burn_alerts(0.99, 30, {"1h": Counts(100, 50), "5m": Counts(0, 0)})
    assert not any(a.firing for a in no_short_events)


def test_the_verdict_says_which_pair_fired_and_ranks_freeze_over_page_over_ticket():
    config = SloConfig(0.99, 30, min_events=10)
    slow = judge(config, Counts(1000, 2), _windows(**{"3d": 2, "6h": 2}))
    assert slow.verdict == TICKET
    assert [a.pair for a in slow.firing] == ["3d/6h"]
    fast = judge(config, Counts(1000, 2), _windows(**{"6h": 7, "30m": 7}))
    assert fast.verdict == PAGE
    assert [a.pair for a in fast.firing] == ["6h/30m"]
    spent = judge(config, Counts(1000, 10), _windows(**{"6h": 7, "30m": 7}))
    assert spent.verdict == EXHAUSTED


@settings(max_examples=200, deadline=None)
@given(
    objective=objectives,
    eligible=st.integers(1, 10**9),
    bad=st.integers(0, 10**9),
    more=st.integers(1, 10**6),
)
def test_remaining_budget_never_increases_as_bad_events_are_added(objective, eligible, bad, more):
    bad = min(bad, eligible)
    worse = min(bad + more, eligible)
    assert (
        budget(objective, Counts(eligible, worse)).remaining
        <= budget(objective, Counts(eligible, bad)).remaining
    )


@settings(max_examples=200, deadline=None)
@given(objective=objectives, eligible=st.integers(0, 10**9), bad_share=st.floats(0, 1))
def test_consumed_is_bad_over_budget(objective, eligible, bad_share):
    bad = int(eligible * bad_share)
    b = budget(objective, Counts(eligible, bad))
    if eligible:
        assert b.consumed == pytest.approx(bad / ((1 - objective) * eligible))
        assert b.remaining == pytest.approx(1 - b.consumed)
    else:
        assert b.consumed == 0.0


@settings(max_examples=100, deadline=None)
@given(objective=objectives, min_events=st.integers(1, 1000))
def test_a_store_with_zero_events_is_insufficient_data_never_green_or_exhausted(
    objective, min_events
):
    judged = judge(SloConfig(objective, 7, min_events=min_events), Counts(), {})
    assert judged.verdict == INSUFFICIENT
    assert not any(a.firing for a in judged.alerts)
