"""Session fixtures: the platform's connectors, the manifest, the clock, the layer-1 verdict.

Connectors are lazy: creating one never touches the platform, so a broken part fails
the check that reads it (with the connector's message), not every check's setup.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tradeops._session import OpsSession
from tradeops.config import Manifest
from tradeops.connectors.control_plane import ControlPlane
from tradeops.connectors.event_store import EventStore
from tradeops.connectors.oanda import OandaBroker
from tradeops.plugin import SESSION
from tradeops.probe import PlatformVerdict

pytest_plugins = ["tradeops.plugin", "tradeops.reports.plugin"]


@pytest.fixture(scope="session")
def ops(pytestconfig: pytest.Config) -> OpsSession:
    """The platform under check for this session."""
    return pytestconfig.stash[SESSION]


@pytest.fixture(scope="session")
def manifest(ops: OpsSession) -> Manifest:
    """The manifest; fails the check when no platform is configured."""
    return ops.require_manifest()


@pytest.fixture(scope="session")
def now_ms(ops: OpsSession) -> int:
    """The session's instant (epoch ms, UTC): every check judges the same moment."""
    return ops.now_ms


@pytest.fixture(scope="session")
def platform_verdict(ops: OpsSession, manifest: Manifest) -> PlatformVerdict:
    """Layer 1 as probed once on the controller."""
    assert ops.verdict is not None, "the platform probe did not run"
    return ops.verdict


@pytest.fixture(scope="session")
def event_store(manifest: Manifest) -> Iterator[EventStore]:
    """The event store, read-only."""
    store = EventStore(manifest.event_store.path, manifest.event_store.busy_timeout_s)
    yield store
    store.close()


@pytest.fixture(scope="session")
def control_plane(manifest: Manifest) -> Iterator[ControlPlane]:
    """The control plane API client (GET only)."""
    cp = manifest.control_plane
    client = ControlPlane(cp.url, cp.token, cp.timeout_s)
    yield client
    client.close()


@pytest.fixture(scope="session")
def brokers(manifest: Manifest) -> Iterator[dict[str, OandaBroker]]:
    """One OANDA client per configured broker, by broker name."""
    clients = {b.name: OandaBroker(b.name, b.url, b.token, b.timeout_s) for b in manifest.brokers}
    yield clients
    for client in clients.values():
        client.close()


@pytest.fixture(scope="session")
def slo_now_ms(ops: OpsSession) -> int:
    """The instant SLOs are judged at: --ops-as-of, else the session clock."""
    return ops.slo_now_ms
