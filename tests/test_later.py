"""Work started early and collected where it is needed: its outcome, never lost."""

from __future__ import annotations

import threading

import pytest

from tradeops._later import InOrder, Later


def test_later_returns_what_the_function_returned_and_raises_what_it_raised():
    assert Later(lambda: 42, "answer").get() == 42
    failing = Later(lambda: 1 / 0, "failing")
    with pytest.raises(ZeroDivisionError):
        failing.get()
    with pytest.raises(ZeroDivisionError):  # asked twice, told twice
        failing.get()


def test_in_order_runs_nothing_before_it_is_started():
    ran = []
    steps = InOrder("steps")
    first = steps.then(lambda: ran.append("first"))
    assert ran == []
    steps.start()
    first.get()
    assert ran == ["first"]


def test_in_order_runs_each_step_after_the_one_before_on_one_thread():
    threads, order = set(), []
    steps = InOrder("steps")

    def step(n: int) -> int:
        threads.add(threading.get_ident())
        order.append(n)
        return n * 10

    outcomes = [steps.then(lambda n=n: step(n)) for n in range(5)]
    steps.start()
    assert [o.get() for o in outcomes] == [0, 10, 20, 30, 40]
    assert order == [0, 1, 2, 3, 4] and len(threads) == 1
    assert threading.get_ident() not in threads


def test_a_failing_step_fails_only_its_own_outcome():
    steps = InOrder("steps")
    broken = steps.then(lambda: {}["missing"])
    after = steps.then(lambda: "still read")
    steps.start()
    with pytest.raises(KeyError):
        broken.get()
    assert after.get() == "still read"


def test_a_step_may_use_an_earlier_steps_outcome_and_its_error():
    steps = InOrder("steps")
    runs = steps.then(lambda: ["r-1", "r-2"])
    ids = steps.then(lambda: [run.upper() for run in runs.get()])
    broken = steps.then(lambda: 1 / 0)
    uses_broken = steps.then(lambda: broken.get() + 1)
    steps.start()
    assert ids.get() == ["R-1", "R-2"]
    with pytest.raises(ZeroDivisionError):
        uses_broken.get()
