"""Errors a connector raises: each message says what failed and where, never a token."""

from __future__ import annotations


class PlatformError(Exception):
    """A part of the platform could not be read; the message is for the operator."""


class EventStoreError(PlatformError):
    """The event store is missing, not SQLite, lacks `events`, locked or corrupt."""


class StoreValueError(EventStoreError):
    """One event holds a value the suite cannot use: the message names its seq and field."""

    def __init__(self, path: str, seq: int, type: str, field: str, problem: str):
        super().__init__(f"{path}: {type} seq {seq}: {problem}")
        self.seq = seq
        self.type = type
        self.field = field
        self.problem = problem


class ControlPlaneError(PlatformError):
    """The control plane is unreachable, timed out, answered non-2xx or malformed."""


class BrokerError(PlatformError):
    """An OANDA account could not be read.

    `kind` is one of: unreachable, timeout, auth, forbidden, not_found, rate_limited,
    server, malformed, http.
    """

    def __init__(self, message: str, *, kind: str, broker: str, account: str | None = None):
        super().__init__(message)
        self.kind = kind
        self.broker = broker
        self.account = account
