"""The tradeops pytest plugin, hooks in lifecycle order.

Options -> configure (resolve the platform, start a sandbox) -> configure_node (ship
the verdict to xdist workers) -> sessionstart (probe layer 1 once, on the controller)
-> collection (gate the upper layers, order platform -> strategy -> portfolio) ->
runtest (markers checked, failures rendered severity-first) -> terminal summary
(the verdict, highest severity first) -> unconfigure (stop the sandbox).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradeops import _session, _summary
from tradeops._render import (
    LAYERS,
    PROPERTY,
    CheckMeta,
    effective_severity,
    findings_of,
    one_line,
    render_failure,
    write_verdict,
)
from tradeops.scheduled import ScheduledStrategy

SESSION = pytest.StashKey[_session.OpsSession]()
CHECK_DIRS = ("checks", "slo")  # where operational checks live, relative to rootdir


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    # xdist's hooks only where xdist is installed; registered this early because
    # pytest_xdist_auto_num_workers runs before pytest_configure.
    if pluginmanager.hasplugin("xdist"):
        from tradeops import _xdist

        pluginmanager.register(_xdist, "tradeops-xdist")
    group = parser.getgroup("tradeops", "tradeops: verify a trading platform")
    group.addoption(
        "--ops-config",
        dest="ops_config",
        metavar="PATH",
        help="the manifest (ops.toml); default $TRADEOPS_CONFIG, then ./ops.toml",
    )
    group.addoption(
        "--sandbox",
        dest="ops_sandbox",
        nargs="?",
        const="healthy",
        default=None,
        metavar="SCENARIO",
        help="start the bundled sandbox platform for this run (default scenario: healthy)",
    )
    group.addoption(
        "--ops-json",
        dest="ops_json",
        metavar="PATH",
        help="also write the run's verdict and every check's outcome as JSON to PATH",
    )
    group.addoption(
        "--ops-as-of",
        dest="ops_as_of",
        metavar="TIMESTAMP",
        help="evaluate SLOs as of this instant (RFC 3339, e.g. 2026-11-20T09:00:00Z)",
    )
    group.addoption(
        "--ops-sandbox-days", dest="ops_sandbox_days", type=int, help="days of sandbox history"
    )
    group.addoption(
        "--ops-sandbox-strategies",
        dest="ops_sandbox_strategies",
        type=int,
        help="number of sandbox strategies",
    )


@pytest.fixture(scope="session")
def ops(pytestconfig: pytest.Config) -> _session.OpsSession:
    """The platform under check for this session (manifest, clock, layer-1 verdict)."""
    return pytestconfig.stash[SESSION]


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _checks_targeted(config: pytest.Config) -> bool:
    """Does this invocation collect operational checks (not only the suite's own tests)?"""
    root = config.rootpath
    check_dirs = [root / name for name in CHECK_DIRS]
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        for check_dir in check_dirs:
            if path == check_dir or check_dir in path.parents or path in check_dir.parents:
                return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if _is_worker(config):
        ops = _session.OpsSession.from_workerinput(config.workerinput[_session.WORKERINPUT_KEY])
    else:
        ops = _session.open_session(config, _checks_targeted(config))
    config.stash[SESSION] = ops


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    # Probe only when checks will run: `pytest tests` or --collect-only judge nothing.
    if not _is_worker(config) and _checks_targeted(config) and not config.option.collectonly:
        _session.probe(config.stash[SESSION], config)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Layer 2 runs once per scheduled strategy, layer 3 once per account: the lists come
    # from the controller's probe, so every xdist worker collects the same items.
    ops = metafunc.config.stash[SESSION]
    if "strategy" in metafunc.fixturenames:
        params, ids = _parametrize_strategies(ops)
        metafunc.parametrize("strategy", params, ids=ids)
    if "account" in metafunc.fixturenames:
        accounts = [a for _, a in ops.manifest.accounts] if ops.manifest else []
        metafunc.parametrize("account", accounts or [None], ids=accounts or ["no-account"])


def _parametrize_strategies(ops: _session.OpsSession) -> tuple[list, list[str]]:
    verdict = ops.verdict
    if verdict is None or verdict.strategies is None:
        why = "no platform" if verdict is None else verdict.strategies_error
        return [
            pytest.param(
                None,
                marks=pytest.mark.skip(reason=f"unreliable: scheduled strategies unknown ({why})"),
            )
        ], ["unknown"]
    if not verdict.strategies:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no strategy is scheduled"))], [
            "none-scheduled"
        ]
    strategies = [ScheduledStrategy(**s) for s in verdict.strategies]
    return strategies, [s.strategy_id for s in strategies]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    ops = config.stash[SESSION]
    checks = [item for item in items if _is_check(item)]
    verdict = ops.verdict
    if verdict is not None and verdict.red:
        reason = f"unreliable: platform layer red ({', '.join(verdict.red_checks)})"
        for item in checks:
            if item.get_closest_marker("strategy") or item.get_closest_marker("portfolio"):
                item.add_marker(pytest.mark.skip(reason=reason), append=False)
    elif verdict is not None:
        for item in checks:
            callspec = getattr(item, "callspec", None)
            account = callspec.params.get("account") if callspec else None
            # Only figures derived from the store's fills are in doubt when positions
            # diverge (contract 5); the broker's own figures are still judged.
            reads = item.get_closest_marker("reads")
            in_doubt = reads is not None and "store_fills" in reads.args
            if item.get_closest_marker("portfolio") and in_doubt and account in verdict.diverged:
                item.add_marker(
                    pytest.mark.skip(
                        reason=(f"unreliable: {verdict.diverged[account]} (positions_match_broker)")
                    )
                )
    # Skip, never deselect (xdist workers must collect the same items); a stable sort
    # keeps each layer's own order: platform, then strategy, then portfolio.
    rank = {layer: i for i, layer in enumerate((*LAYERS, "slo"))}
    items.sort(key=lambda item: rank.get(CheckMeta.of(item).layer, -1) if _is_check(item) else -1)


def _is_check(item: pytest.Item) -> bool:
    path = Path(item.path)
    return any((item.config.rootpath / d) in path.parents for d in CHECK_DIRS)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if _is_check(item):
        problems = CheckMeta.of(item).problems()
        if problems:
            # Failing here, not in collection: a UsageError there is an INTERNALERROR under xdist.
            pytest.fail(f"{item.nodeid} is not a valid check: {'; '.join(problems)}", False)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if not _is_check(item):
        return report
    meta = CheckMeta.of(item)
    summary = ""
    severity = None
    if report.failed and call.excinfo is not None:
        findings = findings_of(call.excinfo)
        if findings:
            # Most severe first: the headline an operator reads is the worst thing found.
            findings = sorted(findings, key=lambda f: f.severity or meta.severity or "P9")
        severity = effective_severity(meta, findings)
        if findings is not None:
            report.longrepr = render_failure(meta, severity, findings)
        summary = one_line(findings, f"{call.excinfo.typename}: {call.excinfo.value}")
    elif report.skipped and isinstance(report.longrepr, tuple):
        summary = report.longrepr[2].removeprefix("Skipped: ")
    if report.when == "call" or report.failed or report.skipped:
        outcome = "error" if report.failed and report.when != "call" else report.outcome
        meta = CheckMeta(
            **{
                **meta.__dict__,
                "outcome": outcome,
                "effective_severity": severity,
                "summary": summary,
            }
        )
        report.user_properties = [p for p in report.user_properties if p[0] != PROPERTY]
        report.user_properties.append((PROPERTY, meta.to_json()))
    return report


SUMMARY = pytest.StashKey[dict]()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    summary = config.stash.get(SUMMARY, None)
    if _is_worker(config) or summary is None:
        return
    ops = config.stash[SESSION]
    if ops.manifest is None and summary["verdict"] == "green":
        return
    write_verdict(terminalreporter, ops, summary)


# Exit codes above pytest's own 0-5, so cron and alerting can tell how bad a red run is.
EXIT_PAGE = 10  # a P0 or P1 check failed: page someone now
EXIT_TICKET = 11  # only P2/P3 checks failed: open a ticket


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if _is_worker(config) or reporter is None:
        return
    ops = config.stash[SESSION]
    summary = _summary.summarize(ops, _summary.collect(reporter))
    config.stash[SUMMARY] = summary  # the terminal verdict is written from it, after this
    if config.getoption("ops_json"):
        _summary.write(Path(config.getoption("ops_json")), summary)
    # A red run becomes a severity code; 2-5 (interrupted, internal error, usage error,
    # nothing collected) stay pytest's. A failure with no valid severity (a malformed
    # check) keeps 1. A run whose checks passed while layer 1 was red is red too.
    if summary["verdict"] == "red" and session.exitstatus in (
        pytest.ExitCode.OK,
        pytest.ExitCode.TESTS_FAILED,
    ):
        top = summary["highest_severity"]
        if top in ("P0", "P1"):
            session.exitstatus = EXIT_PAGE
        elif top in ("P2", "P3"):
            session.exitstatus = EXIT_TICKET


def pytest_unconfigure(config: pytest.Config) -> None:
    ops = config.stash.get(SESSION, None)
    if ops is not None and not _is_worker(config):
        _session.close_session(ops)


def pytest_report_header(config: pytest.Config) -> list[str]:
    ops = config.stash[SESSION]
    if ops.verdict is None:
        return []
    state = "red: " + ", ".join(ops.verdict.red_checks) if ops.verdict.red else "green"
    auto = config.stash.get(_session.AUTO_NOTE, None)
    lines = [f"tradeops: {auto}"] if auto else []
    return [
        *lines,
        f"tradeops: platform layer {state} (probed in {ops.verdict.took_ms:.0f} ms)",
        f"tradeops: session clock {json.dumps(ops.now_ms)} ms",
    ]
