"""What one pytest session knows about the platform: manifest, sandbox, clock, verdict.

Decided once on the controller and shipped to xdist workers as plain JSON through
`workerinput`, so every worker judges the same platform at the same instant.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tradeops._later import Later
from tradeops.config import Manifest, ManifestError, find_manifest, load_manifest
from tradeops.connectors.oanda import OandaBroker
from tradeops.instants import AsOfError, parse_as_of, require_history
from tradeops.probe import PlatformVerdict, probe_platform
from tradeops.reports.paths import report_kind

WORKERINPUT_KEY = "tradeops"
CHECK_DIRS = ("checks", "slo")  # where operational checks live, relative to rootdir
AUTO_NOTE = pytest.StashKey[str]()  # what -n auto chose, and why
TRAIL_LINES = pytest.StashKey[list[str]]()  # where the paper trail went, for the verdict block
NO_PLATFORM = (
    "no platform configured: pass --ops-config PATH, set $TRADEOPS_CONFIG, create ./ops.toml, "
    "or run against the bundled sandbox with --sandbox"
)


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


_ARG_PATHS = pytest.StashKey[tuple[tuple[str, ...], list[tuple[str, Path]]]]()


def arg_paths(config: pytest.Config) -> list[tuple[str, Path]]:
    """Each command-line argument with the path it names (a node id's file).

    Resolved once per set of arguments: collection asks for every folder it enters, and
    each resolve() is a stat of every part of the path.
    """
    args = tuple(config.args)
    cached = config.stash.get(_ARG_PATHS, None)
    if cached is None or cached[0] != args:
        here = config.invocation_params.dir
        cached = (args, [(arg, (here / arg.split("::")[0]).resolve()) for arg in args])
        config.stash[_ARG_PATHS] = cached
    return cached[1]


@functools.lru_cache(maxsize=256)
def in_check_dirs(root: Path, path: Path) -> bool:
    """Is `path` inside one of the rootdir's check folders? Once per file: Path.parents is
    slow, and a run asks it eight times an item."""
    return any((root / d) in path.parents for d in CHECK_DIRS)


def checks_targeted(config: pytest.Config) -> bool:
    """Does this invocation collect operational checks (not only the suite's own tests)?"""
    check_dirs = [config.rootpath / name for name in CHECK_DIRS]
    return any(
        path == check_dir or check_dir in path.parents or path in check_dir.parents
        for _, path in arg_paths(config)
        for check_dir in check_dirs
    )


def narrowing_paths(config: pytest.Config) -> list[str]:
    """Command-line paths narrower than a whole check folder (node ids, files)."""
    whole = {config.rootpath / name for name in CHECK_DIRS} | {config.rootpath}
    return [arg for arg, path in arg_paths(config) if "::" in arg or path not in whole]


_KIND = pytest.StashKey[str]()


def run_kind(config: pytest.Config) -> str:
    """preflight, promote-gate, slo or full: decided once per process, from -m and paths."""
    if _KIND not in config.stash:
        config.stash[_KIND] = report_kind(
            config.option.markexpr, list(config.args), config.rootpath, config.invocation_params.dir
        )
    return config.stash[_KIND]


@dataclass
class OpsSession:
    """The platform under check for this pytest session."""

    manifest: Manifest | None = None
    now_ms: int = 0
    as_of_ms: int | None = None  # --ops-as-of: SLOs are judged as of this past instant
    judged: PlatformVerdict | None = None  # the layer-1 verdict, once known: see `verdict`
    sandbox: object | None = None  # tradeops.sandbox.Sandbox, imported lazily
    problems: list[str] = field(default_factory=list)
    probing: Later[PlatformVerdict] | None = None  # the probe, while it runs
    recording: Later[None] | None = None  # this run's probe, on its way to the history
    _brokers: dict[str, OandaBroker] | None = field(default=None, repr=False)
    _brokers_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def brokers(self) -> dict[str, OandaBroker]:
        """This process's OANDA client per configured broker, by broker name, shared by
        its checks and its SLO thread: a client holds one kept-alive connection and paces
        its requests (OANDA allows 2 new connections a second and 120 requests per login;
        connectors/_http.py), so a second set would open a second connection and double
        the pace. Closed by close_session."""
        with self._brokers_lock:
            if self._brokers is None:
                manifest = self.require_manifest()
                skew_s = manifest.thresholds.clock_skew_max_s
                self._brokers = {
                    b.name: OandaBroker.from_config(b, clock_skew_s=skew_s)
                    for b in manifest.brokers
                }
            return self._brokers

    @property
    def verdict(self) -> PlatformVerdict | None:
        """The layer-1 verdict (None: no platform, or not probed); waits for a running probe."""
        if self.probing is not None:
            probing, self.probing = self.probing, None
            self.judged = probing.get()
        return self.judged

    def to_workerinput(self) -> dict:
        """Plain JSON for the workers: the manifest path, the clock, the verdict."""
        return {
            "manifest": str(self.manifest.path) if self.manifest else None,
            "now_ms": self.now_ms,
            "as_of_ms": self.as_of_ms,
            "verdict": self.verdict.to_json() if self.verdict else None,
        }

    @classmethod
    def from_workerinput(cls, data: dict) -> OpsSession:
        manifest = load_manifest(Path(data["manifest"])) if data["manifest"] else None
        verdict = PlatformVerdict.from_json(data["verdict"]) if data["verdict"] else None
        return cls(
            manifest=manifest, now_ms=data["now_ms"], as_of_ms=data["as_of_ms"], judged=verdict
        )

    @property
    def slo_now_ms(self) -> int:
        """The instant SLOs are evaluated at: --ops-as-of, else the session clock."""
        return self.as_of_ms if self.as_of_ms is not None else self.now_ms

    @property
    def platform(self) -> dict:
        """Which platform this run judges: its name, the sandbox scenario, the manifest."""
        manifest = self.manifest
        name = manifest.platform_name if manifest is not None else None
        scenario = self.sandbox.scenario_name if self.sandbox is not None else None
        return {
            "name": name,
            "scenario": scenario,
            "manifest": str(manifest.path) if manifest is not None else None,
        }

    def require_manifest(self) -> Manifest:
        """The manifest, or fail the asking check: no platform is never a green run."""
        if self.manifest is None:
            pytest.fail(NO_PLATFORM, pytrace=False)
        return self.manifest


def open_session(config: pytest.Config, checks_targeted: bool) -> OpsSession:
    """Resolve the platform on the controller; UsageError for a bad manifest or none at all."""
    session = OpsSession()
    session.as_of_ms = _as_of(config.getoption("ops_as_of"))
    scenario = config.getoption("ops_sandbox")
    if scenario and config.getoption("ops_config"):
        raise pytest.UsageError(
            "--sandbox and --ops-config both name a platform: run against one at a time"
        )
    if scenario:
        session.sandbox = _start_sandbox(config, scenario)
        path: Path | None = session.sandbox.manifest_path
    else:
        path = find_manifest(config.getoption("ops_config"), os.environ, Path.cwd())
    # The session instant is read once the platform is there (a sandbox may take seconds
    # to build): every check judges this same moment.
    session.now_ms = int(time.time() * 1000)
    if path is None:
        if checks_targeted:
            raise pytest.UsageError(NO_PLATFORM)
        return session
    try:
        session.manifest = load_manifest(path)
    except ManifestError as exc:
        close_session(session)
        raise pytest.UsageError(str(exc)) from None
    if session.as_of_ms is not None:  # and not before the store's first event
        store = session.manifest.event_store
        try:
            require_history(
                config.getoption("ops_as_of"), session.as_of_ms, store.path, store.busy_timeout_s
            )
        except AsOfError as exc:
            close_session(session)
            raise pytest.UsageError(str(exc)) from None
    return session


def start_probe(session: OpsSession, config: pytest.Config) -> None:
    """Probe layer 1 once (controller only), on a thread of its own from configure on.

    The probe mostly waits (on SQLite, which reads without the GIL, and on the platform's
    answers), so pytest's own configure, session start and collection go on meanwhile;
    the first to ask for `session.verdict` (collection, the workers' input) waits for it.
    """
    manifest = session.manifest
    if manifest is None:
        return

    def probe() -> PlatformVerdict:
        verdict = probe_platform(manifest, session.now_ms)
        # Its commit waits on the disk too: done before any check (the availability
        # SLO) reads the history, see probe_recorded.
        session.recording = Later(
            lambda: _record_probe(session, config, verdict), "tradeops-probe-history"
        )
        return verdict

    session.probing = Later(probe, "tradeops-probe")


def probe_recorded(session: OpsSession) -> None:
    """Wait until this run's probe is in the history (its failure is one of the problems)."""
    session.verdict  # noqa: B018  (the probe starts the recording: it must have run)
    if session.recording is not None:
        session.recording.get()
        session.recording = None


def _record_probe(session: OpsSession, config: pytest.Config, verdict: PlatformVerdict) -> None:
    """Every run's control-plane probe goes to the suite's own history (availability SLO)."""
    from tradeops.slo.history import ProbeHistoryError, history_of

    assert session.manifest is not None
    history = history_of(
        session.manifest, config.rootpath, config.getoption("ops_reports_dir", None)
    )
    try:
        history.record(**verdict.control_plane)
    except ProbeHistoryError as exc:
        # The history is the suite's bookkeeping: losing one probe must not fail the run.
        session.problems.append(f"control-plane probe not recorded: {exc}")


def close_session(session: OpsSession) -> None:
    """Close the broker clients; stop the sandbox if this session started one."""
    probe_recorded(session)  # before the sandbox (and perhaps its history) is gone
    with session._brokers_lock:
        for client in (session._brokers or {}).values():
            client.close()
        session._brokers = None
    if session.sandbox is not None:
        session.sandbox.stop()
        session.sandbox = None


def _as_of(value: str | None) -> int | None:
    """--ops-as-of as epoch ms; a UsageError for a bare date, no zone, or the future."""
    if not value:
        return None
    try:
        return parse_as_of(value)
    except AsOfError as exc:
        raise pytest.UsageError(str(exc)) from None


def _start_sandbox(config: pytest.Config, scenario: str):
    # Imported here: an operational run against a real platform never loads the sandbox.
    from tradeops.sandbox import Sandbox, SandboxError, StoreParams
    from tradeops.sandbox import scenario as find_scenario

    try:
        find_scenario(scenario)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    overrides = {
        name: config.getoption(f"ops_sandbox_{name}")
        for name in ("days", "strategies")
        if config.getoption(f"ops_sandbox_{name}") is not None
    }
    sandbox = Sandbox(scenario, params=StoreParams(**overrides))
    try:
        sandbox.start()
    except SandboxError as exc:
        raise pytest.UsageError(f"the sandbox did not start: {exc}") from None
    except Exception as exc:  # a sandbox bug must read as one line, not an INTERNALERROR
        sandbox.stop()
        raise pytest.UsageError(f"the sandbox did not start: {type(exc).__name__}: {exc}") from None
    # Workers inherit the controller's environment: that is how they get the tokens.
    os.environ.update(sandbox.environ)
    return sandbox


SESSION = pytest.StashKey[OpsSession]()
