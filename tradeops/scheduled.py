"""A strategy scheduled for this session, as the layer-2 checks are parametrized by it."""

from __future__ import annotations

from tradeops._record import frozen_record


@frozen_record
class ScheduledStrategy:
    """One scheduled strategy: its id (the test id), its instrument and its account."""

    strategy_id: str
    instrument: str
    account_id: str

    def __str__(self) -> str:
        return self.strategy_id
