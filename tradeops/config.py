"""The manifest: one TOML file saying where the platform is and what "healthy" means.

Found by `--ops-config PATH`, else `$TRADEOPS_CONFIG`, else `./ops.toml`. Every key is
typed and held to a rule (its range, beside the key below); a bad file is one line
naming the file, the key and the rule, before any check runs. Secrets are never in the
file, only the names of the environment variables that hold them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import field
from datetime import UTC, datetime
from pathlib import Path

from tradeops._config_rules import (
    ACCOUNTS,
    AT_LEAST_ONE,
    AT_MOST_ONE,
    FRACTION,
    KEEP_DAYS,
    NON_NEGATIVE,
    NOT_EMPTY,
    POSITIVE,
    SHARE,
    TIMEOUT,
    URL,
    WINDOW_DAYS,
    ManifestError,
    check_brokers,
    check_margin,
    record,
)
from tradeops._config_rules import (
    RETENTION_FLOOR_DAYS as RETENTION_FLOOR_DAYS,
)
from tradeops._record import frozen_record
from tradeops._secret import Secret
from tradeops.waivers import Waiver
from tradeops.waivers import parse as parse_waivers

ENV_VAR = "TRADEOPS_CONFIG"
DEFAULT_NAME = "ops.toml"
SANDBOX_REPORTS = "sandbox"  # drills keep their own trail: <rootdir>/reports/sandbox/

# Tokens are filled in by the loader from the environment, never read from TOML.
_NOT_TOML = {"toml": False}


@frozen_record
class PlatformConfig:
    """Which platform this manifest describes; the suite's own history is kept per name."""

    name: str | None = field(default=None, metadata=NOT_EMPTY)  # default: control plane URL


@frozen_record
class ControlPlaneConfig:
    """[control_plane]: where the control plane answers, its token's variable, its deadline."""

    url: str = field(metadata=URL)
    token_env: str | None = field(default=None, metadata=NOT_EMPTY)
    timeout_s: float = field(default=5.0, metadata=TIMEOUT)
    max_answer_mb: float = field(default=10.0, metadata=POSITIVE)
    token: Secret | None = field(default=None, compare=False, metadata=_NOT_TOML)


@frozen_record
class EventStoreConfig:
    """[event_store]: the SQLite file, and how long a locked store may keep a read waiting."""

    path: str = field(metadata=NOT_EMPTY)
    busy_timeout_s: float = field(default=2.0, metadata=TIMEOUT)


@frozen_record
class BrokerConfig:
    """One [[brokers]] entry: an OANDA API, its token's variable, its accounts, its deadline."""

    name: str = field(metadata=NOT_EMPTY)
    url: str = field(metadata=URL)
    token_env: str = field(metadata=NOT_EMPTY)
    accounts: list[str] = field(metadata=ACCOUNTS)
    timeout_s: float = field(default=5.0, metadata=TIMEOUT)
    max_answer_mb: float = field(default=10.0, metadata=POSITIVE)
    token: Secret | None = field(default=None, compare=False, metadata=_NOT_TOML)


@frozen_record
class Thresholds:
    """When a fact becomes a finding; defaults from the operations model."""

    # A run is stale when its last HEARTBEAT is older than this many heartbeat intervals.
    stale_after_heartbeats: float = field(default=3.0, metadata=POSITIVE)
    control_plane_latency_ms: float = field(default=1000.0, metadata=POSITIVE)
    # While the market is open, a price older than this is stale.
    price_stale_after_s: float = field(default=60.0, metadata=POSITIVE)
    # While runs are live, the newest event must be younger than this.
    store_write_stale_after_s: float = field(default=60.0, metadata=POSITIVE)
    wal_max_mb: float = field(default=256.0, metadata=POSITIVE)
    clock_skew_max_s: float = field(default=5.0, metadata=POSITIVE)
    # A ts that goes back more than this against seq order is an out-of-order append.
    sequence_tolerance_s: float = field(default=1.0, metadata=NON_NEGATIVE)


@frozen_record
class TrackingConfig:
    """How far paper trading may drift from what the backtest promised."""

    window_days: float = field(default=30.0, metadata=WINDOW_DAYS)
    # Fewer closed trades than this is "insufficient data".
    min_trades: int = field(default=20, metadata=AT_LEAST_ONE)
    trades_per_day_tolerance: float = field(default=0.5, metadata=NON_NEGATIVE)  # relative
    win_rate_tolerance: float = field(default=0.15, metadata=SHARE)  # absolute
    avg_pl_tolerance: float = field(default=1.0, metadata=NON_NEGATIVE)  # of the backtest's size
    # Paper drawdown may be up to this times the backtest's.
    max_drawdown_factor: float = field(default=2.0, metadata=POSITIVE)


@frozen_record
class PortfolioConfig:
    """Portfolio limits, per account, in fractions of NAV."""

    max_drawdown: float = field(default=0.10, metadata=FRACTION)
    max_daily_loss: float = field(default=0.03, metadata=FRACTION)
    # OANDA's marginCloseoutPercent: at 1 the broker closes positions.
    margin_closeout_warning: float = field(default=0.5, metadata=FRACTION)
    margin_closeout_critical: float = field(default=0.8, metadata=AT_MOST_ONE)
    # Net exposure per currency, in multiples of NAV.
    max_currency_exposure: float = field(default=3.0, metadata=POSITIVE)
    # Account currency: NAV change vs P&L of the strategies.
    pnl_tolerance: float = field(default=1.0, metadata=NON_NEGATIVE)


@frozen_record
class SloConfig:
    """One service level objective: good/eligible >= objective over the window."""

    objective: float = field(metadata=FRACTION)
    window_days: float = field(metadata=WINDOW_DAYS)
    # Latency SLIs: an event is good when it took at most this long.
    threshold_s: float | None = field(default=None, metadata=POSITIVE)
    # Fewer eligible events than this in the window is "insufficient data", not a verdict.
    min_events: int = field(default=20, metadata=AT_LEAST_ONE)
    # A required SLO with insufficient data closes the promote gate (naming it).
    required: bool = False


# The operations model's SLOs and their defaults; `[slo.<name>]` overrides any key.
SLO_DEFAULTS: dict[str, SloConfig] = {
    "trade_persistence": SloConfig(0.999, 7),
    "broker_reconnection": SloConfig(0.99, 7, threshold_s=30),
    "run_success": SloConfig(0.995, 30),
    "control_plane_availability": SloConfig(0.999, 30),
    "reconciliation_divergence": SloConfig(0.99, 7),
    "heartbeat_delivery": SloConfig(0.99, 7),
    "stale_detection_latency": SloConfig(0.99, 7, threshold_s=30),
    "promote_gate_latency": SloConfig(0.99, 30, threshold_s=15),
}


@frozen_record
class GateConfig:
    """How the promote gate treats an SLO with too little data to judge."""

    insufficient_data_blocks: bool = False


@frozen_record
class ReportsConfig:
    """Where the paper trail goes and how long it is kept."""

    dir: str | None = field(default=None, metadata=NOT_EMPTY)  # default: <rootdir>/reports
    keep_days: int = field(default=365, metadata=KEEP_DAYS)
    # The suite's own probe history, under dir.
    history_db: str = field(default="probe-history.sqlite", metadata=NOT_EMPTY)
    # A published docs/runbooks.md; links are <url>#<id>.
    runbook_url: str | None = field(default=None, metadata=URL)


@frozen_record
class OutputsConfig:
    """Outputs beyond the paper trail, for the monitoring stack."""

    # node_exporter's textfile collector directory (relative to the manifest); the option
    # --ops-prometheus DIR wins.
    prometheus_dir: str | None = field(default=None, metadata=NOT_EMPTY)


@frozen_record
class Manifest:
    """The whole ops.toml: the platform's parts, thresholds, SLOs, gate, reports, waivers."""

    path: Path
    control_plane: ControlPlaneConfig
    event_store: EventStoreConfig
    brokers: list[BrokerConfig]
    thresholds: Thresholds = field(default_factory=Thresholds)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    portfolio: PortfolioConfig = field(default_factory=PortfolioConfig)
    slo: dict[str, SloConfig] = field(default_factory=lambda: dict(SLO_DEFAULTS))
    gate: GateConfig = field(default_factory=GateConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)
    outputs: OutputsConfig = field(default_factory=OutputsConfig)
    platform: PlatformConfig = field(default_factory=PlatformConfig)
    waivers: tuple[Waiver, ...] = ()
    digest: str = ""

    @property
    def accounts(self) -> list[tuple[BrokerConfig, str]]:
        """Every configured (broker, account id) pair, in manifest order."""
        return [(broker, account) for broker in self.brokers for account in broker.accounts]

    @property
    def platform_name(self) -> str:
        """`[platform] name`, else the control plane URL: the key of the suite's history."""
        return self.platform.name or self.control_plane.url.rstrip("/")


# Sections that are tables of a single record, by TOML name.
_SECTIONS: dict[str, type] = {
    "platform": PlatformConfig,
    "control_plane": ControlPlaneConfig,
    "event_store": EventStoreConfig,
    "thresholds": Thresholds,
    "tracking": TrackingConfig,
    "portfolio": PortfolioConfig,
    "gate": GateConfig,
    "reports": ReportsConfig,
    "outputs": OutputsConfig,
}
_REQUIRED_SECTIONS = ("control_plane", "event_store", "brokers")


def reports_root(
    option: str | None,
    manifest_dir: str | None,
    manifest_path: Path | None,
    rootdir: Path,
    sandbox: bool = False,
) -> Path:
    """Where the paper trail and the probe history live.

    `--ops-reports-dir` (option), else the manifest's `[reports] dir` (relative to the
    manifest), else `<rootdir>/reports`, or `<rootdir>/reports/sandbox` for a sandbox
    drill, so a drill never writes into a real platform's chain, index or trend.
    """
    if option:
        return Path(option).expanduser().resolve()
    if manifest_dir:
        path = Path(manifest_dir).expanduser()
        if not path.is_absolute() and manifest_path is not None:
            path = manifest_path.parent / path
        return path.resolve()
    root = rootdir / "reports"
    return (root / SANDBOX_REPORTS if sandbox else root).resolve()


def find_manifest(option: str | None, environ: Mapping[str, str], cwd: Path) -> Path | None:
    """The manifest to use: the option, else $TRADEOPS_CONFIG, else ./ops.toml if it exists."""
    if option:
        return Path(option)
    if environ.get(ENV_VAR):
        return Path(environ[ENV_VAR])
    default = cwd / DEFAULT_NAME
    return default if default.is_file() else None


def load_manifest(path: Path, environ: Mapping[str, str] | None = None) -> Manifest:
    """Read, type-check and resolve a manifest; raise ManifestError with one clear line."""
    environ = os.environ if environ is None else environ
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the manifest ({exc.strerror})") from None
    try:
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: not valid TOML ({exc})") from None

    unknown = sorted(set(raw) - set(_SECTIONS) - {"brokers", "slo", "waivers"})
    if unknown:
        raise ManifestError(f"{path}: unknown section [{unknown[0]}]")
    for name in _REQUIRED_SECTIONS:
        if name not in raw:
            raise ManifestError(f"{path}: missing section [{name}]")

    sections = {
        name: record(cls, raw[name], path, f"[{name}]")
        for name, cls in _SECTIONS.items()
        if name in raw
    }
    brokers_raw = raw["brokers"]
    if not isinstance(brokers_raw, list) or not brokers_raw:
        raise ManifestError(f"{path}: [[brokers]] must be one or more tables")
    brokers = [
        record(BrokerConfig, entry, path, f"[[brokers]] #{index + 1}")
        for index, entry in enumerate(brokers_raw)
    ]
    check_brokers(brokers, path)

    portfolio = sections.get("portfolio", PortfolioConfig())
    check_margin(portfolio.margin_closeout_warning, portfolio.margin_closeout_critical, path)

    control_plane = sections["control_plane"]
    if control_plane.token_env:
        control_plane = dataclasses.replace(
            control_plane, token=_token(environ, control_plane.token_env, path, "[control_plane]")
        )
    brokers = [
        dataclasses.replace(b, token=_token(environ, b.token_env, path, f"[[brokers]] {b.name}"))
        for b in brokers
    ]
    event_store = sections["event_store"]
    store_path = Path(event_store.path).expanduser()
    if not store_path.is_absolute():
        store_path = path.parent / store_path
    event_store = dataclasses.replace(event_store, path=str(store_path))

    return Manifest(
        path=path,
        control_plane=control_plane,
        event_store=event_store,
        brokers=brokers,
        thresholds=sections.get("thresholds", Thresholds()),
        tracking=sections.get("tracking", TrackingConfig()),
        portfolio=portfolio,
        slo=_slos(raw.get("slo", {}), path),
        gate=sections.get("gate", GateConfig()),
        reports=sections.get("reports", ReportsConfig()),
        outputs=sections.get("outputs", OutputsConfig()),
        platform=sections.get("platform", PlatformConfig()),
        waivers=_waivers(raw.get("waivers", []), path),
        digest=hashlib.sha256(raw_bytes).hexdigest(),
    )


def _waivers(raw: object, path: Path) -> tuple[Waiver, ...]:
    try:
        return parse_waivers(raw, datetime.now(UTC).date())
    except ValueError as exc:
        raise ManifestError(f"{path}: {exc}") from None


def _slos(raw: object, path: Path) -> dict[str, SloConfig]:
    """The SLO defaults with each `[slo.<name>]` table's keys laid over them."""
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: [slo] must hold tables like [slo.run_success]")
    slos = dict(SLO_DEFAULTS)
    for name, table in raw.items():
        if name not in SLO_DEFAULTS:
            raise ManifestError(
                f"{path}: unknown SLO [slo.{name}]; known: {', '.join(SLO_DEFAULTS)}"
            )
        given = (
            record(SloConfig, {**_as_toml(SLO_DEFAULTS[name]), **table}, path, f"[slo.{name}]")
            if isinstance(table, dict)
            else None
        )
        if given is None:
            raise ManifestError(f"{path}: [slo.{name}] must be a table")
        slos[name] = given
    return slos


def _as_toml(values: object) -> dict:
    return {k: v for k, v in dataclasses.asdict(values).items() if v is not None}


def _token(environ: Mapping[str, str], name: str, path: Path, where: str) -> Secret:
    value = environ.get(name, "")
    if not value:
        raise ManifestError(f"{path}: {where} token_env: environment variable ${name} is not set")
    return Secret(value, source=f"${name}")
