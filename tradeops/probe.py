"""The platform probe: layer 1 observed once, on the controller, before any check runs.

Layer-1 facts decide whether the layers above can be judged at all, so they are
gathered once per session (not once per xdist worker: a hung broker must cost one
timeout, not one per worker) and handed to every worker as plain JSON. The probe
never raises: whatever goes wrong becomes a finding.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from tradeops.config import BrokerConfig, Manifest
from tradeops.connectors.control_plane import ControlPlane, Health
from tradeops.connectors.errors import PlatformError
from tradeops.connectors.event_store import EventStore
from tradeops.connectors.oanda import OandaBroker
from tradeops.findings import Finding, Where


@dataclass(frozen=True)
class PlatformVerdict:
    """Layer-1 findings per check id; red when any check has a finding."""

    findings: dict[str, list[Finding]]
    took_ms: float = 0.0

    @property
    def red_checks(self) -> list[str]:
        return [check for check, found in self.findings.items() if found]

    @property
    def red(self) -> bool:
        return bool(self.red_checks)

    def of(self, check: str) -> list[Finding]:
        """The findings of one layer-1 check (empty when it is green)."""
        return self.findings.get(check, [])

    def to_json(self) -> dict:
        return {
            "findings": {c: [f.to_json() for f in fs] for c, fs in self.findings.items()},
            "took_ms": self.took_ms,
        }

    @classmethod
    def from_json(cls, data: dict) -> PlatformVerdict:
        findings = {c: [Finding.from_json(f) for f in fs] for c, fs in data["findings"].items()}
        return cls(findings, data.get("took_ms", 0.0))


def probe_platform(manifest: Manifest) -> PlatformVerdict:
    """Observe layer 1 concurrently (control plane, every account, the store); never raise."""
    started = time.perf_counter()
    jobs: dict[str, Callable[[], object]] = {"health": lambda: _health(manifest)}
    for broker, account in manifest.accounts:
        jobs[f"account:{broker.name}:{account}"] = _account_job(broker, account)
    jobs["journal_mode"] = lambda: _journal_mode(manifest)
    with ThreadPoolExecutor(max_workers=min(16, len(jobs))) as pool:
        futures = {name: pool.submit(_guarded, job) for name, job in jobs.items()}
        results = {name: future.result() for name, future in futures.items()}

    health = results.pop("health")
    journal = results.pop("journal_mode")
    findings = {
        "broker_reachability": _broker_reachability(manifest, health, results),
        "wal_mode": _wal_mode(manifest, health, journal),
    }
    return PlatformVerdict(findings, round((time.perf_counter() - started) * 1000, 1))


def _guarded(job: Callable[[], object]) -> object:
    """Run one observation; a PlatformError (or a bug) becomes the result, not a crash."""
    try:
        return job()
    except PlatformError as exc:
        return exc
    except Exception as exc:  # a bug in a connector must still not be an INTERNALERROR
        return PlatformError(f"unexpected {type(exc).__name__} while probing: {exc}")


def _health(manifest: Manifest) -> Health:
    cp = manifest.control_plane
    with ControlPlane(cp.url, cp.token, cp.timeout_s) as control_plane:
        return control_plane.health()


def _account_job(broker: BrokerConfig, account: str) -> Callable[[], object]:
    def job() -> object:
        with OandaBroker(broker.name, broker.url, broker.token, broker.timeout_s) as client:
            return client.summary(account)

    return job


def _journal_mode(manifest: Manifest) -> str:
    with EventStore(manifest.event_store.path, manifest.event_store.busy_timeout_s) as store:
        return store.journal_mode()


def _broker_reachability(
    manifest: Manifest, health: object, accounts: dict[str, object]
) -> list[Finding]:
    """Pre-flight 2: /api/health is 200 "ok", and OANDA answers for every account."""
    found: list[Finding] = []
    if isinstance(health, PlatformError):
        found.append(Finding(f"control plane down: {health}", severity="P0"))
    elif not health.ok:
        found.append(Finding(f"control plane /api/health status is {health.status!r}, not 'ok'"))
    else:
        connected = {b.account_id: b.connected for b in health.brokers}
        for _, account in manifest.accounts:
            if not connected.get(account, False):
                state = "missing from" if account not in connected else "disconnected in"
                found.append(
                    Finding(f"the platform's broker connection is {state} /api/health",
                            Where(account=account))
                )
    unreachable = [
        Finding(str(result), Where(account=name.split(":", 2)[2]))
        for name, result in accounts.items()
        if isinstance(result, PlatformError)
    ]
    if unreachable and len(unreachable) == len(accounts):
        # Every account unreachable: all brokers down is P0 (capital at risk).
        unreachable = [Finding(f.what, f.where, "P0") for f in unreachable]
    return found + unreachable


def _wal_mode(manifest: Manifest, health: object, journal: object) -> list[Finding]:
    """Pre-flight 3: the store file is in WAL mode and the platform agrees."""
    path = manifest.event_store.path
    if isinstance(journal, PlatformError):
        return [Finding(f"cannot read the journal mode: {journal}")]
    found = []
    if journal != "wal":
        found.append(
            Finding(f"event store {path} is in {journal!r} journal mode, not 'wal': readers "
                    "block the platform's writer")
        )
    if isinstance(health, Health) and health.journal_mode and health.journal_mode != journal:
        found.append(
            Finding(f"the platform reports journal_mode {health.journal_mode!r} but the "
                    f"store file {path} is {journal!r}")
        )
    return found
