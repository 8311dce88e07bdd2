"""SLO fixtures: every SLO evaluated once per session, as of --ops-as-of or the session clock.

`pytest slo/` is the cron run (the SLO checks, no gate); `pytest -m promote_gate` is the
gate (tradeops.plugin deselects it unless asked for). Each check records its results;
the verdict document carries their figures, the terminal and the HTML their table.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tradeops._session import run_kind
from tradeops.checkmodel import GATE_PROPERTY, SLO_HISTORY_PROPERTY, SLO_PROPERTY
from tradeops.config import Manifest
from tradeops.connectors.event_store import EventStore
from tradeops.connectors.oanda import OandaBroker
from tradeops.slo import series
from tradeops.slo.evaluate import evaluate, fetch_fills
from tradeops.slo.history import ProbeHistory, history_of
from tradeops.slo.objectives import BrokerFills
from tradeops.slo.result import SloResult


@pytest.fixture(scope="session")
def probe_history(manifest: Manifest, pytestconfig: pytest.Config) -> ProbeHistory:
    """This platform's control-plane probes in the suite's own history ([reports] history_db)."""
    option = pytestconfig.getoption("ops_reports_dir", None)
    return history_of(manifest, pytestconfig.rootpath, option)


@pytest.fixture(scope="session")
def unreliable_slos(platform_verdict) -> dict[str, str]:
    """SLOs measured against a part layer 1 found red, with why: not judged by the cron
    checks (never a fresh failure), and not measurable for the gate (which fails closed)."""
    if platform_verdict.of("broker_reachability"):
        return {"trade_persistence": "unreliable: broker layer red (broker_reachability)"}
    return {}


@pytest.fixture(scope="session")
def broker_fills(
    manifest: Manifest, brokers: dict[str, OandaBroker], slo_now_ms: int, unreliable_slos
) -> BrokerFills:
    """Every account's broker fills in the trade-persistence window.

    Not read when trade persistence is unreliable: the probe already paid the broker's
    timeout once.
    """
    if "trade_persistence" in unreliable_slos:
        return BrokerFills(errors=(unreliable_slos["trade_persistence"],))
    return fetch_fills(brokers, manifest, slo_now_ms)


@pytest.fixture(scope="session")
def slo_evaluation(
    manifest: Manifest,
    event_store: EventStore,
    probe_history: ProbeHistory,
    broker_fills: BrokerFills,
    slo_now_ms: int,
) -> tuple[dict[str, SloResult], dict[str, float]]:
    """Every SLO of the manifest, evaluated once, by name; and each one's time."""
    took_s: dict[str, float] = {}
    results = evaluate(
        manifest,
        slo_now_ms,
        store=event_store,
        history=probe_history,
        fills=broker_fills,
        took_s=took_s,
    )
    return {r.name: r for r in results}, took_s


@pytest.fixture(scope="session")
def slo_results(slo_evaluation) -> dict[str, SloResult]:
    """Every SLO of the manifest, evaluated once, by name."""
    return slo_evaluation[0]


@pytest.fixture(scope="session")
def budget_history(
    pytestconfig: pytest.Config,
    manifest: Manifest,
    event_store: EventStore,
    probe_history: ProbeHistory,
    slo_now_ms: int,
    slo_evaluation,
) -> dict[str, list[dict]]:
    """Each SLO's budget over its window, for the report's pictures: on the SLO runs only
    (`pytest slo/`, the gate), where the SLOs are the point; a full health run draws the
    budget as it is now. Bounded in time by tradeops.slo.series."""
    if run_kind(pytestconfig) not in ("slo", "promote-gate"):
        return {}
    current, took_s = slo_evaluation
    return series.budget_history(
        manifest,
        slo_now_ms,
        store=event_store,
        history=probe_history,
        current=current,
        took_s=took_s,
    )


@pytest.fixture
def record_slo(request: pytest.FixtureRequest, budget_history) -> Callable[..., None]:
    """Attach SLO results (and, with gate=True, the fact the gate ran) to the report.

    Straight into user_properties, not through `record_property`, which warns under the
    xunit2 JUnit family the paper trail uses.
    """
    properties = request.node.user_properties

    def record(*results: SloResult, gate: bool = False) -> None:
        for result in results:
            properties.append((SLO_PROPERTY, json.dumps(result.to_json())))
        shown = {r.name: budget_history[r.name] for r in results if r.name in budget_history}
        if shown:
            properties.append((SLO_HISTORY_PROPERTY, json.dumps(shown)))
        if gate:
            properties.append((GATE_PROPERTY, "ran"))

    return record
