"""One connector per platform part: event store, control plane, OANDA brokers."""

from __future__ import annotations

from tradeops.connectors.errors import (
    BrokerError,
    ControlPlaneError,
    EventStoreError,
    PlatformError,
)

__all__ = ["BrokerError", "ControlPlaneError", "EventStoreError", "PlatformError"]
