"""The tradeops pytest plugin, hooks in lifecycle order.

Installed as a `pytest11` entry point, so pytest knows every `--ops-*` option before it
parses the command line (`--ops-config PATH` with a space works from any directory).

Options -> configure (resolve the platform, start a sandbox, start the layer-1 probe on
a thread of its own, on the controller) -> collection (the probe's verdict awaited; count
what the run's kind selects, gate the upper layers, order platform -> strategy ->
portfolio -> slo) -> runtest (markers
checked, outcomes classified, failures rendered severity-first) -> sessionfinish (one
verdict document, the exit code, the file outputs) -> terminal summary (the verdict block,
last) -> unconfigure (stop the sandbox). xdist's hooks live in `_xdist`, registered only
when xdist is installed.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest

import tradeops._unrewritten  # noqa: F401  (first of ours: see its docstring)
from tradeops import _collect, _rootdir, _session, verdict
from tradeops._session import (
    SESSION,
    TRAIL_LINES,
    checks_targeted,
    is_worker,
    narrowing_paths,
)
from tradeops.checkmodel import (
    PROPERTY,
    CheckMeta,
    effective_severity,
    finding_record,
    findings_of,
    layer_rank,
    one_line,
)
from tradeops.outputs import OUTPUTS, junit, terminal
from tradeops.outputs.paper_trail import open_paper_trail
from tradeops.runfacts import (
    DOC,
    KIND_SELECTED,
    RUN,
    STARTED_MS,
    RunCollector,
    facts_of,
    slo_table,
)
from tradeops.scheduled import ScheduledStrategy
from tradeops.verdict import EXIT_PAGE, EXIT_TICKET  # noqa: F401  (re-exported)

# pytest-html's ini keys, declared in pyproject: known even under `-p no:html`.
HTML_INI = {"initial_sort": "result", "render_collapsed": "passed"}


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    if pluginmanager.is_blocked("html") or pluginmanager.is_blocked("pytest_html"):
        for name, default in HTML_INI.items():
            parser.addini(name, "pytest-html's (off in this run)", default=default)
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
        help="also write the run's verdict document (every check's outcome) as JSON to PATH",
    )
    group.addoption(
        "--ops-prometheus",
        dest="ops_prometheus",
        metavar="DIR",
        help="also write DIR/tradeops_<kind>.prom for node_exporter's textfile collector",
    )
    group.addoption(
        "--ops-as-of",
        dest="ops_as_of",
        metavar="TIMESTAMP",
        help="evaluate SLOs as of this instant (RFC 3339, e.g. 2026-11-20T09:00:00Z)",
    )
    group.addoption(
        "--ops-reports-dir",
        dest="ops_reports_dir",
        metavar="DIR",
        help="keep reports, chain and index here (default: the manifest's [reports] dir, "
        "else reports/ under the rootdir)",
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
    # Before later plugins load: a misled rootdir is corrected while it still saves work.
    _rootdir.correct_early(parser, pluginmanager)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser, args: list[str]) -> None:
    # pytest chose the rootdir before it knew --ops-config takes a value: choose again.
    _rootdir.correct(early_config, parser, args)


def pytest_plugin_registered(plugin, plugin_name: str, manager) -> None:
    # xdist's hooks only where xdist is loaded, with no import back; registered as xdist
    # arrives (this hook is historic), since pytest_xdist_auto_num_workers runs before
    # pytest_configure.
    if plugin_name == "xdist" and not manager.has_plugin("tradeops-xdist"):
        from tradeops import _xdist

        manager.register(_xdist, "tradeops-xdist")


@pytest.fixture(scope="session")
def ops(pytestconfig: pytest.Config) -> _session.OpsSession:
    """The platform under check for this session (manifest, clock, layer-1 verdict)."""
    return pytestconfig.stash[SESSION]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if is_worker(config):
        ops = _session.OpsSession.from_workerinput(config.workerinput[_session.WORKERINPUT_KEY])
    else:
        ops = _session.open_session(config, checks_targeted(config))
    config.stash[SESSION] = ops
    config.stash[TRAIL_LINES] = []
    _outputs_from_manifest(config, ops)
    open_paper_trail(config)
    # Probe only when checks will run: `pytest tests` or --collect-only judge nothing.
    if not is_worker(config) and checks_targeted(config) and not config.option.collectonly:
        config.stash[STARTED_MS] = int(time.time() * 1000)
        config.stash[RUN] = RunCollector()
        config.pluginmanager.register(config.stash[RUN], "tradeops-run")
        _session.start_probe(ops, config)


def _outputs_from_manifest(config: pytest.Config, ops: _session.OpsSession) -> None:
    """The manifest's [outputs] paths, where no option overrides them."""
    wanted = ops.manifest.outputs.prometheus_dir if ops.manifest is not None else None
    if wanted and not config.getoption("ops_prometheus", None):
        path = Path(wanted).expanduser()
        config.option.ops_prometheus = str(
            path if path.is_absolute() else ops.manifest.path.parent / path
        )


def pytest_ignore_collect(collection_path, config: pytest.Config) -> bool | None:
    if _collect.off_every_argument(collection_path, config):
        return True
    if _collect.outside_the_checks(collection_path, config):
        return True
    if _collect.holds_no_preflight_item(collection_path, config):
        return True
    return None


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


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]):
    # Before -m/-k deselect: how many checks the run's kind selects, to say how many of
    # them a narrowed run judged.
    run = config.stash.get(RUN, None)
    if run is not None:
        run.kind_selected = _kind_selected(config, items)
    elif is_worker(config):  # the controller collects nothing under xdist: tell it
        config.workeroutput[KIND_SELECTED] = _kind_selected(config, items)
    result = yield
    _deselect_gate_unless_asked(config, items)
    _gate_upper_layers(config.stash[SESSION], [item for item in items if _is_check(item)])
    # Skip, never deselect (xdist workers must collect the same items); a stable sort
    # keeps each layer's own order: platform, then strategy, then portfolio, then slo.
    items.sort(key=lambda item: layer_rank(CheckMeta.of(item).layer) if _is_check(item) else -1)
    if run is not None:
        run.items = sum(_is_check(item) for item in items)
    return result


def _gate_asked(config: pytest.Config) -> bool:
    """The gate runs when asked for: `-m promote_gate`, or its file named."""
    return "promote_gate" in (config.option.markexpr or "") or any(
        "test_promote_gate" in arg for arg in config.args
    )


def _deselect_gate_unless_asked(config: pytest.Config, items: list[pytest.Item]) -> None:
    gate_items = [item for item in items if item.get_closest_marker("promote_gate")]
    if gate_items and not _gate_asked(config):
        items[:] = [item for item in items if item not in gate_items]
        config.hook.pytest_deselected(items=gate_items)


def _kind_selected(config: pytest.Config, items: list[pytest.Item]) -> int | None:
    """Check items the marker expression selects, before -k narrows them; None when the
    paths on the command line narrowed the run (the kind's full count is unknown)."""
    from _pytest.mark import MarkMatcher  # pytest's own -m matcher, so counts agree
    from _pytest.mark.expression import Expression

    if narrowing_paths(config):
        return None
    checks = [item for item in items if _is_check(item)]
    if not _gate_asked(config):
        checks = [item for item in checks if not item.get_closest_marker("promote_gate")]
    if not config.option.markexpr:
        return len(checks)
    try:
        expr = Expression.compile(config.option.markexpr)
    except SyntaxError:
        return None  # pytest itself reports the bad expression
    return sum(expr.evaluate(MarkMatcher.from_markers(item.iter_markers())) for item in checks)


def _gate_upper_layers(ops: _session.OpsSession, checks: list[pytest.Item]) -> None:
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


def _is_check(item: pytest.Item) -> bool:
    return _session.in_check_dirs(item.config.rootpath, item.path)


def pytest_collection_finish(session: pytest.Session) -> None:
    # Everything built so far (modules, the probe, the items) lives until the run ends:
    # frozen, the garbage collector stops walking it, both in the automatic passes the
    # checks trigger and in the gc.collect() pytest makes at the end to surface
    # unraisable exceptions (a fifth of a pre-flight's CPU when it walked all of it).
    # What the checks themselves allocate is collected as before.
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    # A check reading the probe history (availability) counts this run's probe: in one
    # process the reader waits for it (slo/conftest.py), so a run reading none (a
    # pre-flight) never waits on the commit's fsync; xdist workers cannot wait for this
    # process's thread, so the probe is in before any check is sent to them.
    if session.config.pluginmanager.hasplugin("dsession"):
        _session.probe_recorded(session.config.stash[SESSION])


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
    summary, severity, records, outcome = "", None, [], report.outcome
    if report.failed and call.excinfo is not None:
        findings = findings_of(call.excinfo)
        if findings is None:
            # An unexpected exception: the suite could not judge, the platform is not at fault.
            outcome = "suite_error"
            error = f"{call.excinfo.typename}: {call.excinfo.value}"
            summary = f"the suite could not judge {meta.name}: {error}"
            report.longrepr = f"{terminal.render_suite_error(meta, error)}\n\n{report.longrepr}"
        else:
            # Most severe first: the headline an operator reads is the worst thing found.
            findings = sorted(findings, key=lambda f: f.severity or meta.severity or "P9")
            severity = effective_severity(meta, findings)
            report.longrepr = terminal.render_failure(meta, severity, findings)
            summary = one_line(findings, "")
            records = [finding_record(f, meta.severity) for f in findings]
            outcome = "error" if report.when != "call" else "failed"
    elif report.skipped and isinstance(report.longrepr, tuple):
        summary = report.longrepr[2].removeprefix("Skipped: ")
    if report.when == "call" or report.failed or report.skipped:
        meta = meta.with_outcome(
            outcome=outcome, effective_severity=severity, summary=summary, findings=records
        )
        report.user_properties = [p for p in report.user_properties if p[0] != PROPERTY]
        report.user_properties.append((PROPERTY, meta.to_json()))
        # JUnit reads the teardown report, whose properties are the item's own.
        item.user_properties[:] = [p for p in item.user_properties if p[0] not in junit.KEYS]
        item.user_properties += junit.properties(meta)
    return report


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    _session.probe_recorded(config.stash[SESSION])  # a run stopped before its checks
    run = config.stash.get(RUN, None)
    if is_worker(config) or run is None:
        return
    doc = verdict.build(facts_of(config, session, run))
    config.stash[DOC] = doc
    # pytest's internal error (3) and usage error (4) stand; every other status becomes
    # the verdict's own code (see the README's exit codes).
    if session.exitstatus not in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR):
        session.exitstatus = doc["exit_code"]
    doc["run"]["exit_status"] = int(session.exitstatus)
    for output in OUTPUTS:
        if output.wanted(config):
            output.write(doc, config)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config):
    # Outermost wrapper: the verdict block comes after pytest's own short summary.
    result = yield
    doc = config.stash.get(DOC, None)
    if doc is not None:
        table = slo_table(config.stash[RUN])
        terminal.write(doc, terminalreporter, table, config.stash[TRAIL_LINES])
    return result


def pytest_unconfigure(config: pytest.Config) -> None:
    ops = config.stash.get(SESSION, None)
    if ops is not None:  # a worker's too: its broker clients (it has no sandbox)
        _session.close_session(ops)


def pytest_report_header(config: pytest.Config) -> list[str]:
    ops = config.stash[SESSION]
    if ops.probing is None and ops.judged is None:  # nothing probed: `pytest tests`, --co
        return []
    auto = config.stash.get(_session.AUTO_NOTE, None)
    lines = [f"tradeops: {auto}"] if auto else []
    return [*lines, f"tradeops: session clock {verdict.rfc3339(ops.now_ms)}"]


def pytest_report_collectionfinish(config: pytest.Config) -> list[str]:
    # After collection, not in the header: the header is written while the probe runs.
    ops = config.stash[SESSION]
    if ops.verdict is None or config.option.verbose < 0:  # -q shows no header either
        return []
    state = "red: " + ", ".join(ops.verdict.red_checks) if ops.verdict.red else "green"
    return [f"tradeops: platform layer {state} (probed in {ops.verdict.took_ms:.0f} ms)"]
