"""SLO fixtures: every SLO evaluated once per session, as of --ops-as-of or the session clock.

`pytest slo/` is the cron run (the SLO checks, no gate); `pytest -m promote_gate` is the
gate (tradeops.plugin deselects it unless asked for). Each check records its results;
the verdict document carries their figures, the terminal and the HTML their table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from tradeops import _session
from tradeops._later import Later
from tradeops._session import SESSION, is_worker, run_kind
from tradeops.checkmodel import GATE_PROPERTY, SLO_HISTORY_PROPERTY, SLO_PROPERTY
from tradeops.config import Manifest
from tradeops.connectors.event_store import EventStore
from tradeops.connectors.oanda import OandaBroker
from tradeops.probe import PlatformVerdict

# The SLO modules are imported where a fixture or the hook first needs them: every run
# loads this conftest (pytest's testpaths), and a pre-flight must not pay for them.
if TYPE_CHECKING:
    from tradeops.slo.evaluate import Evaluation
    from tradeops.slo.history import ProbeHistory
    from tradeops.slo.result import SloResult


def _history(config: pytest.Config, manifest: Manifest) -> ProbeHistory:
    from tradeops.slo.history import history_of

    return history_of(manifest, config.rootpath, config.getoption("ops_reports_dir", None))


@pytest.fixture(scope="session")
def probe_history(manifest: Manifest, pytestconfig: pytest.Config) -> ProbeHistory:
    """This platform's control-plane probes in the suite's own history ([reports] history_db),
    this run's probe among them (its commit waited for)."""
    _session.probe_recorded(pytestconfig.stash[SESSION])
    return _history(pytestconfig, manifest)


def _unreliable(verdict: PlatformVerdict | None) -> dict[str, str]:
    if verdict is not None and verdict.of("broker_reachability"):
        return {"trade_persistence": "unreliable: broker layer red (broker_reachability)"}
    return {}


@pytest.fixture(scope="session")
def unreliable_slos(platform_verdict: PlatformVerdict) -> dict[str, str]:
    """SLOs measured against a part layer 1 found red, with why: not judged by the cron
    checks (never a fresh failure), and not measurable for the gate (which fails closed)."""
    return _unreliable(platform_verdict)


_EARLY = pytest.StashKey[Later["Evaluation"]]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    # In one process the SLO checks run last, after every layer's checks (the plugin's
    # order). Their evaluation is nearly all SQLite, which reads without the GIL: started
    # here on a thread, on connections of its own, it runs beside those checks instead of
    # after them (300 strategies: about 2 s of SLO reads beside 2.7 s of checks). An xdist
    # worker does not know whether the SLO checks will be sent to it: it evaluates inline.
    config = session.config
    ops = config.stash.get(SESSION, None)
    if is_worker(config) or config.option.collectonly or ops is None or ops.manifest is None:
        return
    if session.testsfailed and not config.option.continue_on_collection_errors:
        return  # pytest stops the run before any check
    if not any(_evaluates(item) for item in session.items):
        return
    _session.probe_recorded(ops)  # availability counts this run's probe
    from tradeops.slo.evaluate import evaluate_platform

    history, unreliable = _history(config, ops.manifest), _unreliable(ops.verdict)
    brokers = ops.brokers()  # the checks' own clients: one connection per broker
    config.stash[_EARLY] = Later(
        lambda: evaluate_platform(
            ops.manifest, ops.slo_now_ms, brokers=brokers, history=history, unreliable=unreliable
        ),
        "tradeops-slo",
    )


def _evaluates(item: pytest.Item) -> bool:
    return "slo_evaluation" in getattr(item, "fixturenames", ()) and not item.get_closest_marker(
        "skip"
    )


@pytest.fixture(scope="session")
def slo_evaluation(
    pytestconfig: pytest.Config,
    manifest: Manifest,
    brokers: dict[str, OandaBroker],
    probe_history: ProbeHistory,
    slo_now_ms: int,
    unreliable_slos: dict[str, str],
) -> Evaluation:
    """Every SLO of the manifest, evaluated once, by name; and each one's time. Started
    early on its own thread where the run allows (pytest_runtestloop above)."""
    from tradeops.slo.evaluate import evaluate_platform

    early = pytestconfig.stash.get(_EARLY, None)
    if early is not None:
        return early.get()
    return evaluate_platform(
        manifest, slo_now_ms, brokers=brokers, history=probe_history, unreliable=unreliable_slos
    )


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
    from tradeops.slo import series

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
