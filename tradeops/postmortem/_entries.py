"""One line of a post-mortem's timeline, wherever it came from."""

from __future__ import annotations

from tradeops._record import frozen_record

# What an entry means for the incident's clock.
SIGNAL = "signal"  # the fault shows (a run went silent, a hole in run_seq)
DETECTED = "detected"  # something noticed: the platform's own detector, or a red suite run
RECOVERED = "recovered"  # a fault opened earlier is over (reconnected, heartbeats resumed, green)
NOTE = "note"  # context: promote decisions, a change of severity
KINDS = (SIGNAL, DETECTED, RECOVERED, NOTE)


@frozen_record
class Entry:
    """A timeline line: when, what, and where it was read (`event seq N`, or a report path).

    `opens` / `closes` name the fault a detection opens or a recovery closes (e.g.
    ("broker", account)), so the draft knows whether every fault was over by the window's end.
    """

    ts_ms: int
    kind: str
    text: str
    source: str
    opens: tuple[str, str] | None = None
    closes: tuple[str, str] | None = None
    strategy: str | None = None
    account: str | None = None
    instrument: str | None = None
    run: str | None = None
