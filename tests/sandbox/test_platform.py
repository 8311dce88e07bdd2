"""Sandbox: stopping it never raises, whatever its processes do."""

from __future__ import annotations

import subprocess

from tradeops.sandbox.platform import Sandbox


class Unkillable:
    """A process that outlives SIGTERM and, for a while, SIGKILL (a long disk write)."""

    stdout = None

    def __init__(self) -> None:
        self.signals: list[str] = []

    def poll(self) -> None:
        return None

    def terminate(self) -> None:
        self.signals.append("TERM")

    def kill(self) -> None:
        self.signals.append("KILL")

    def wait(self, timeout: float | None = None) -> int:
        raise subprocess.TimeoutExpired("writer", timeout or 0)


def test_a_process_still_dying_after_sigkill_does_not_make_stop_raise():
    sandbox = Sandbox("healthy")
    process = Unkillable()
    sandbox._processes.append(process)
    sandbox.stop()
    assert process.signals == ["TERM", "KILL"]
    assert sandbox._processes == []
