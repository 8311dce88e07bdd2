"""The paper trail's pytest hooks: every operational run leaves a kept, indexed report.

Opened by `tradeops.plugin` (`open_paper_trail`). On the controller of a run
that targets operational checks it reserves reports/<date>/<kind>-<time>-<id>.html,
points pytest-html and JUnit XML there, adds the severity/layer columns, the verdict and
a vetted environment, then has `tradeops.outputs.kept` write the verdict document as JSON,
record the files in the chain, apply retention and regenerate reports/index.html.
`--html PATH` still wins: the report goes there, with its JSON and XML beside it, and is
not part of the kept trail.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from tradeops._later import Later
from tradeops._session import SESSION, TRAIL_LINES, checks_targeted, run_kind
from tradeops.outputs import _environment, kept
from tradeops.reports import _html, chain, paths
from tradeops.runfacts import DOC, ENVIRONMENT, RUN, RUN_INFO, slo_results

TRAIL = pytest.StashKey["PaperTrail"]()


def open_paper_trail(config: pytest.Config) -> None:
    """On the controller of an operational run, open this run's paper trail.

    Called from tradeops.plugin's tryfirst configure, once the session exists and before
    pytest-html and junitxml configure (they read --html and --junitxml then).
    """
    if hasattr(config, "workerinput"):
        return
    if config.option.collectonly or not checks_targeted(config):
        # No trail: only a --html the user typed stands (not a default set by another plugin).
        if hasattr(config.option, "htmlpath"):
            config.option.htmlpath = getattr(config.known_args_namespace, "htmlpath", None)
        return
    trail = PaperTrail.open(config)
    config.stash[TRAIL] = trail
    config.pluginmanager.register(trail, "tradeops-paper-trail")


class PaperTrail:
    """One run's report files and the hooks that fill and record them (controller only)."""

    def __init__(
        self, config: pytest.Config, run: paths.RunPaths, root: Path | None, user_xml: Path | None
    ) -> None:
        self.config = config
        self.run = run
        self.root = root  # None: --html chose the place, so not part of the kept trail
        self.user_xml = user_xml
        self.environment: dict[str, str] = {}
        self.recorded: kept.Recorded | None = None
        self.error: str | None = None
        self._metadata_snapshot: dict | None = None
        self._html_report = None
        # Two git subprocesses and the login name (a passwd lookup where $USER is unset,
        # ~8 ms on a cold host): they run while the probe waits on the platform.
        self._provenance = Later(
            lambda: (_environment.git_commit(config.rootpath), _environment.operator()),
            "tradeops-git",
        )

    @classmethod
    def open(cls, config: pytest.Config) -> PaperTrail:
        """Decide where this run's files go and point pytest-html and JUnit there."""
        ops = config.stash[SESSION]
        option = config.option
        kind = run_kind(config)
        # known_args_namespace holds what the user typed (and addopts), untouched by any
        # plugin that set a default into config.option before us.
        user_html = getattr(config.known_args_namespace, "htmlpath", None)
        user_xml = getattr(config.known_args_namespace, "xmlpath", None)
        if user_html:
            option.htmlpath = user_html
            run, root = paths.beside(Path(user_html), kind), None
        else:
            manifest = ops.manifest
            root = paths.reports_root(
                config.getoption("ops_reports_dir"),
                manifest.reports.dir if manifest else None,
                manifest.path if manifest else None,
                config.rootpath,
                sandbox=ops.sandbox is not None,  # a drill keeps its own trail
            )
            try:
                run = paths.reserve(root, kind)
            except OSError as exc:  # one line before any check runs, not a traceback
                raise pytest.UsageError(
                    f"cannot create this run's report under {root}: {exc.strerror or exc}"
                ) from None
            option.htmlpath = str(run.html)
            option.self_contained_html = True
        if user_xml:
            option.xmlpath = user_xml
        else:
            option.xmlpath = str(run.xml)
        config.stash[RUN_INFO] = {
            "id": run.run_id,
            "kind": run.kind,
            "report": run.html.name,
            "junit": run.xml.name,
        }
        return cls(config, run, root, Path(user_xml).resolve() if user_xml else None)

    @property
    def data(self) -> dict | None:
        """The run's verdict document, once tradeops.plugin has built it."""
        return self.config.stash.get(DOC, None)

    # -- the environment: vetted fields only, on the controller, and kept that way --------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Build the vetted environment and make it the report's whole table."""
        commit, operator = self._provenance.get()
        self.environment = _environment.environment(
            self.config, self.config.stash[SESSION], self.run, commit, operator
        )
        self.config.stash[ENVIRONMENT] = self.environment
        metadata = _metadata(self.config)
        if metadata is not None:
            # In place: pytest-html holds a reference to this very dict.
            curated = _environment.curated_metadata(metadata, self.environment)
            metadata.clear()
            metadata.update(curated)
            self._metadata_snapshot = dict(curated)

    @pytest.hookimpl(wrapper=True, optionalhook=True)
    def pytest_testnodedown(self, node, error):
        """Put the vetted environment back after pytest-metadata merged a worker's."""
        # pytest-metadata merges each worker's unredacted metadata back here when the
        # worker stops; put the vetted table back afterwards.
        result = yield
        metadata = _metadata(self.config)
        if metadata is not None and self._metadata_snapshot is not None:
            metadata.clear()
            metadata.update(self._metadata_snapshot)
        return result

    # -- pytest-html ---------------------------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report) -> None:
        """Title the report by kind, time and run id."""
        started = self.run.started.strftime("%Y-%m-%d %H:%M:%SZ")
        report.title = f"tradeops {self.run.kind} report, {started}, run {self.run.run_id}"
        self._html_report = report  # the verdict joins the title once it is known

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        """Add the Severity, Layer and What-to-do headers."""
        _html.insert_header(cells)

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report, cells: list[str]) -> None:
        """Add the same cells to one row."""
        _html.insert_row(report, cells, self.config.rootpath, self.run.html.parent)

    @pytest.hookimpl(optionalhook=True, tryfirst=True)
    def pytest_html_results_summary(
        self, prefix: list, summary: list, postfix: list, session: pytest.Session
    ) -> None:
        """Lead the summary with the verdict, failures and what was not judged."""
        # tryfirst: the verdict leads, the SLO table follows it.
        if self.data is None:
            return
        if self._html_report is not None:
            verdict = self.data["verdict"].upper().replace("_", " ")
            top = self.data["highest_severity"]
            self._html_report.title = f"{verdict}{f' {top}' if top else ''}: " + (
                self._html_report.title
            )
        prefix.append(_html.summary_block(self.data, self.config.rootpath, self.run.html.parent))
        results = slo_results(self.config.stash[RUN])
        if results:  # a run without SLOs (pre-flight) never loads their modules
            from tradeops.slo.report import html_fragment

            prefix.append(html_fragment(results, self.data.get("gate")))

    # -- the end: outputs, chain, retention, index ---------------------------------------

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int):
        """Hold the chain's lock while the reports are written, then record them."""
        # trylast wrapper: innermost, so pytest-html and junitxml write inside it; the
        # verdict document was built by tradeops.plugin's tryfirst sessionfinish.
        with contextlib.ExitStack() as stack:
            try:
                if self.root is not None:
                    stack.enter_context(chain.locked(self.root))
            except Exception as exc:  # the run's own verdict must still be reported
                self.error = f"{type(exc).__name__}: {exc}"
            result = yield
            if self.data is not None and self.error is None:
                try:
                    self.recorded = kept.record(
                        self.root, self.run, self.data, self.config.stash[SESSION], self.user_xml
                    )
                except Exception as exc:
                    self.error = f"{type(exc).__name__}: {exc}"
            self._trail_lines()
        return result

    def _trail_lines(self) -> None:
        """Where the report went and what the chain now ends with, for the verdict block."""
        lines = self.config.stash[TRAIL_LINES]
        if self.error is not None:
            lines.append(f"tradeops paper trail NOT recorded: {self.error}")
            return
        done = self.recorded
        if done is None:
            return
        names = ", ".join(f.name for f in done.files)
        lines.append(f"tradeops report: {names} in {self.run.html.parent}")
        if done.entry is not None:
            lines.append(
                f"tradeops paper trail: chain entry #{done.entry['seq']}, head "
                f"{done.entry['hash'][:12]}; index {done.index}"
            )
        if done.pruned is not None:
            gone = {r["run"] for r in done.pruned["removed"]}
            unverified = done.pruned["kept_unverified"]
            lines.append(
                f"tradeops retention: removed {len(gone)} run(s) older than "
                f"{done.pruned['keep_days']} days (recorded in the chain)"
                + (f"; kept {len(unverified)} that no longer verify" if unverified else "")
            )
        for path in done.scrubbed or []:
            lines.append(
                f"tradeops: a token was found in {path.name} and redacted: a check "
                "or connector put a secret in a message; report this bug"
            )

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Remove an empty reservation left by a run that never wrote its report."""
        # A run that died before pytest-html wrote leaves an empty reservation: remove it.
        html = self.run.html
        if self.root is not None and html.is_file() and html.stat().st_size == 0:
            html.unlink()


def _metadata(config: pytest.Config) -> dict | None:
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:
        return None
    return config.stash.get(metadata_key, None)
