"""The records EventStore returns: one frozen dataclass per derived fact of the contract."""

from __future__ import annotations

from tradeops._record import frozen_record
from tradeops.connectors.errors import StoreValueError


@frozen_record
class Heartbeat:
    """A run's newest HEARTBEAT: its time (epoch ms) and global seq."""

    ts: int
    seq: int


@frozen_record
class Run:
    """One run as the store tells it: RUN_STARTED's payload, its end, its newest heartbeat.

    Payload fields are None when the RUN_STARTED payload is malformed (payload_problems
    names that row); `end_status` is None when the RUN_ENDED payload is. `problem` is set
    when its start's or newest heartbeat's ts is unusable: then when it last showed life
    is unknown, and asking raises that problem.
    """

    run_id: str
    strategy_id: str | None
    instrument: str | None
    account_id: str | None
    mode: str | None
    heartbeat_interval_s: int | None
    scheduled_end_ts: int | None
    started_ts: int
    started_seq: int
    ended: bool
    end_status: str | None
    last_heartbeat_ts: int | None
    last_heartbeat_seq: int | None
    problem: StoreValueError | None = None

    @property
    def reached_end(self) -> bool:
        """True when the run wrote RUN_ENDED (whatever its status)."""
        return self.ended

    @property
    def last_alive_ts(self) -> int:
        """When it last showed life: its newest heartbeat, else its start."""
        if self.problem is not None:
            raise self.problem
        return self.last_heartbeat_ts or self.started_ts

    def heartbeat_age_s(self, now_ms: int) -> float:
        """Seconds since it last showed life."""
        return (now_ms - self.last_alive_ts) / 1000

    @property
    def last_heartbeat(self) -> Heartbeat | None:
        """The newest HEARTBEAT, or None if the run never sent one."""
        if self.last_heartbeat_ts is None or self.last_heartbeat_seq is None:
            return None
        return Heartbeat(self.last_heartbeat_ts, self.last_heartbeat_seq)


@frozen_record
class Gap:
    """A hole in a run's run_seq: run_seq missing_from..missing_to never arrived."""

    run_id: str
    strategy_id: str | None
    account_id: str | None
    missing_from: int
    missing_to: int
    seq_after: int  # global seq of the first event after the hole: where to look

    @property
    def missing(self) -> int:
        """How many events the hole lost."""
        return self.missing_to - self.missing_from + 1


@frozen_record
class StaleDetection:
    """A STALE_DETECTED event: the platform's own detector fired."""

    seq: int
    ts: int
    run_id: str | None
    strategy_id: str | None
    last_heartbeat_ts: int


@frozen_record
class Gate:
    """A PROMOTE_REQUESTED with no PROMOTE_DECIDED of the same gate_id."""

    gate_id: str
    strategy_id: str | None
    requested_ts: int
    seq: int


@frozen_record
class Alert:
    """A RECONCILIATION_ALERT with no RECONCILIATION_ALERT_RESOLVED of the same alert_id."""

    alert_id: str
    strategy_id: str | None
    account_id: str | None
    raised_ts: int
    seq: int


@frozen_record
class PayloadProblem:
    """A row whose payload is not valid JSON or lacks or mistypes a contract field."""

    seq: int
    type: str
    run_id: str | None
    problem: str
