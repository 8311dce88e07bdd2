"""The manifest: one TOML file saying where the platform is and what "healthy" means.

Found by `--ops-config PATH`, else `$TRADEOPS_CONFIG`, else `./ops.toml`. Every key is
typed and checked; a bad file is one line naming the file and the key. Secrets are
never in the file, only the names of the environment variables that hold them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tradeops._secret import Secret
from tradeops.waivers import Waiver
from tradeops.waivers import parse as parse_waivers

ENV_VAR = "TRADEOPS_CONFIG"
DEFAULT_NAME = "ops.toml"


class ManifestError(Exception):
    """The manifest cannot be used; the message names the file and the key."""


# Tokens are filled in by the loader from the environment, never read from TOML.
_NOT_TOML = {"toml": False}


@dataclass(frozen=True)
class ControlPlaneConfig:
    url: str
    token_env: str | None = None
    timeout_s: float = 5.0
    max_answer_mb: float = 10.0
    token: Secret | None = field(default=None, compare=False, metadata=_NOT_TOML)


@dataclass(frozen=True)
class EventStoreConfig:
    path: str
    busy_timeout_s: float = 2.0


@dataclass(frozen=True)
class BrokerConfig:
    name: str
    url: str
    token_env: str
    accounts: list[str]
    timeout_s: float = 5.0
    max_answer_mb: float = 10.0
    token: Secret | None = field(default=None, compare=False, metadata=_NOT_TOML)


@dataclass(frozen=True)
class Thresholds:
    """When a fact becomes a finding; defaults from the operations model."""

    # A run is stale when its last HEARTBEAT is older than this many heartbeat intervals.
    stale_after_heartbeats: float = 3.0
    control_plane_latency_ms: float = 1000.0
    # While the market is open, a price older than this is stale.
    price_stale_after_s: float = 60.0
    # While runs are live, the newest event must be younger than this.
    store_write_stale_after_s: float = 60.0
    wal_max_mb: float = 256.0
    clock_skew_max_s: float = 5.0
    # A ts that goes back more than this against seq order is an out-of-order append.
    sequence_tolerance_s: float = 1.0


@dataclass(frozen=True)
class TrackingConfig:
    """How far paper trading may drift from what the backtest promised."""

    window_days: float = 30.0
    min_trades: int = 20  # fewer closed trades than this is "insufficient data"
    trades_per_day_tolerance: float = 0.5  # relative to the backtest
    win_rate_tolerance: float = 0.15  # absolute
    avg_pl_tolerance: float = 1.0  # relative to the backtest's magnitude
    max_drawdown_factor: float = 2.0  # paper drawdown may be up to this times the backtest's


@dataclass(frozen=True)
class PortfolioConfig:
    """Portfolio limits, per account, in fractions of NAV."""

    max_drawdown: float = 0.10
    max_daily_loss: float = 0.03
    margin_closeout_warning: float = 0.5
    margin_closeout_critical: float = 0.8
    max_currency_exposure: float = 3.0  # net exposure per currency, in multiples of NAV
    pnl_tolerance: float = 1.0  # account currency: NAV change vs P&L of the strategies


@dataclass(frozen=True)
class SloConfig:
    """One service level objective: good/eligible >= objective over the window."""

    objective: float
    window_days: float
    # Latency SLIs: an event is good when it took at most this long.
    threshold_s: float | None = None
    # Fewer eligible events than this in the window is "insufficient data", not a verdict.
    min_events: int = 20
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


@dataclass(frozen=True)
class GateConfig:
    """How the promote gate treats an SLO with too little data to judge."""

    insufficient_data_blocks: bool = False


@dataclass(frozen=True)
class ReportsConfig:
    """Where the paper trail goes and how long it is kept."""

    dir: str | None = None  # default: reports/ under the suite's rootdir
    keep_days: int = 365
    history_db: str = "probe-history.sqlite"  # the suite's own probe history, under dir
    runbook_url: str | None = None  # a published docs/runbooks.md; links are <url>#<id>


@dataclass(frozen=True)
class Manifest:
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
    waivers: tuple[Waiver, ...] = ()
    digest: str = ""

    @property
    def accounts(self) -> list[tuple[BrokerConfig, str]]:
        """Every configured (broker, account id) pair, in manifest order."""
        return [(broker, account) for broker in self.brokers for account in broker.accounts]


# Sections that are tables of a single record, by TOML name.
_SECTIONS: dict[str, type] = {
    "control_plane": ControlPlaneConfig,
    "event_store": EventStoreConfig,
    "thresholds": Thresholds,
    "tracking": TrackingConfig,
    "portfolio": PortfolioConfig,
    "gate": GateConfig,
    "reports": ReportsConfig,
}
_REQUIRED_SECTIONS = ("control_plane", "event_store", "brokers")


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
        name: _record(cls, raw[name], path, f"[{name}]")
        for name, cls in _SECTIONS.items()
        if name in raw
    }
    brokers_raw = raw["brokers"]
    if not isinstance(brokers_raw, list) or not brokers_raw:
        raise ManifestError(f"{path}: [[brokers]] must be one or more tables")
    brokers = [
        _record(BrokerConfig, entry, path, f"[[brokers]] #{index + 1}")
        for index, entry in enumerate(brokers_raw)
    ]
    _check_brokers(brokers, path)

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
        portfolio=sections.get("portfolio", PortfolioConfig()),
        slo=_slos(raw.get("slo", {}), path),
        gate=sections.get("gate", GateConfig()),
        reports=sections.get("reports", ReportsConfig()),
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
            _record(SloConfig, {**_as_toml(SLO_DEFAULTS[name]), **table}, path, f"[slo.{name}]")
            if isinstance(table, dict)
            else None
        )
        if given is None:
            raise ManifestError(f"{path}: [slo.{name}] must be a table")
        if not 0 < given.objective < 1:
            raise ManifestError(f"{path}: [slo.{name}] objective: must be between 0 and 1")
        slos[name] = given
    return slos


def _as_toml(record: object) -> dict:
    return {k: v for k, v in dataclasses.asdict(record).items() if v is not None}


def _check_brokers(brokers: list[BrokerConfig], path: Path) -> None:
    names = [b.name for b in brokers]
    for name in names:
        if names.count(name) > 1:
            raise ManifestError(f"{path}: [[brokers]] name {name!r} appears twice")
    for broker in brokers:
        if not broker.accounts:
            raise ManifestError(f"{path}: [[brokers]] {broker.name}: accounts is empty")


def _token(environ: Mapping[str, str], name: str, path: Path, where: str) -> Secret:
    value = environ.get(name, "")
    if not value:
        raise ManifestError(f"{path}: {where} token_env: environment variable ${name} is not set")
    return Secret(value, source=f"${name}")


def _record(cls: type, raw: object, path: Path, where: str):
    """Build one section's dataclass from its TOML table, checking every key and type."""
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: {where} must be a table")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.metadata.get("toml", True)}
    for key in raw:
        if key not in fields:
            raise ManifestError(f"{path}: {where} unknown key {key!r}")
    values = {}
    for name, spec in fields.items():
        if name not in raw:
            required = (
                spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
            )
            if required:
                raise ManifestError(f"{path}: {where} missing key {name!r}")
            continue
        values[name] = _typed(raw[name], hints[name], path, f"{where} {name}")
    return cls(**values)


def _typed(value: object, hint: object, path: Path, where: str) -> object:
    """Check one TOML value against a field's type; ints are accepted where floats are."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        if option is type(None):
            continue
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            if value < 0:
                raise ManifestError(f"{path}: {where}: must not be negative, got {value}")
            return float(value)
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option in (str, bool) and type(value) is option:
            return value
        if typing.get_origin(option) is list:
            (item,) = typing.get_args(option)
            if isinstance(value, list) and all(type(v) is item for v in value):
                return list(value)
    wanted = " or ".join(_type_name(o) for o in options if o is not type(None))
    raise ManifestError(f"{path}: {where}: expected {wanted}, got {_toml_repr(value)}")


def _type_name(hint: object) -> str:
    if typing.get_origin(hint) is list:
        return f"a list of {_type_name(typing.get_args(hint)[0]).split(' ', 1)[1]}s"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        hint, str(hint)
    )


def _toml_repr(value: object) -> str:
    return f"{type(value).__name__} {value!r}"
