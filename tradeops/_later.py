"""A value computed on a thread of its own while the run goes on.

For work that mostly waits outside Python: a subprocess (`git status`), an fsync (the
probe history's commit), or SQLite reading without the GIL (the SLOs). Started early and
collected where it is needed, the wait overlaps the probe, the collection or the checks
instead of adding to the run; on a cron host whose disk the platform's writer keeps busy,
one fsync alone was seen to take 140 ms.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Outcome(Generic[T]):
    """What one function returned or raised, once it has run; `get()` waits for it."""

    def __init__(self) -> None:
        self._result: T | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()

    def _run(self, fn: Callable[[], T]) -> None:
        try:
            self._result = fn()
        except BaseException as exc:  # handed to whoever collects it, never lost
            self._error = exc
        finally:
            self._done.set()

    def get(self) -> T:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]


class Later(Outcome[T]):
    """`fn()` on a daemon thread of its own."""

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        super().__init__()
        threading.Thread(target=self._run, args=(fn,), name=name, daemon=True).start()


class InOrder:
    """Functions run one after another on one daemon thread, once started, each with an
    outcome of its own, ready as soon as it has run (for reads that share a connection
    no other thread uses). A function may wait on an earlier one's outcome."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._steps: list[tuple[Outcome, Callable[[], object]]] = []

    def then(self, fn: Callable[[], T]) -> Outcome[T]:
        """`fn()`'s outcome, once the thread has run every step before it and this one."""
        outcome: Outcome[T] = Outcome()
        self._steps.append((outcome, fn))
        return outcome

    def start(self) -> None:
        steps = list(self._steps)

        def run() -> None:
            for outcome, fn in steps:
                outcome._run(fn)

        threading.Thread(target=run, name=self._name, daemon=True).start()
