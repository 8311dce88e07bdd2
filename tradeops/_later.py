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


class Later(Generic[T]):
    """`fn()` on a daemon thread; `get()` waits for it and returns or raises its outcome."""

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(fn,), name=name, daemon=True)
        self._thread.start()

    def _run(self, fn: Callable[[], T]) -> None:
        try:
            self._result = fn()
        except BaseException as exc:  # handed to whoever collects it, never lost
            self._error = exc

    def get(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._result  # type: ignore[return-value]
