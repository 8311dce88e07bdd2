"""Every kind of nonsense a manifest can hold is refused before any check runs.

Each case is a real ops.toml written to disk; the error is one line naming the file,
the key and the rule. A few cases also run the real suite (`pytest -m preflight
--ops-config PATH`), which must stop with a usage error (exit 4): that line, no traceback.
"""

from __future__ import annotations

import dataclasses
import typing

import pytest

from tests.suite_runner import run_suite
from tests.test_config import ENV, GOOD
from tradeops import config
from tradeops.config import ManifestError, load_manifest

URL_RULE = "must be an http:// or https:// URL with a host (and no user:password)"
TIMEOUT_RULE = "must be a number of seconds above 0 and at most 300"
SECOND_BROKER = """
[[brokers]]
name = "oanda-live"
url = "https://api-fxtrade.oanda.com"
token_env = "OANDA_TOKEN"
accounts = ["001-004-7654321-001"]
"""


def replaced(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new, 1)


# (case id, manifest text, the message after "<path>: ")
CASES = [
    (
        "a URL without its scheme's colon",
        replaced('url = "http://127.0.0.1:8080"', 'url = "htp//127.0.0.1:8080"'),
        f'[control_plane] url: {URL_RULE}, got "htp//127.0.0.1:8080"',
    ),
    (
        "a broker URL that is not http",
        replaced('"https://api-fxpractice.oanda.com"', '"ftp://api-fxpractice.oanda.com"'),
        f'[[brokers]] #1 url: {URL_RULE}, got "ftp://api-fxpractice.oanda.com"',
    ),
    (
        "a URL holding a password",
        replaced('"http://127.0.0.1:8080"', '"http://ops:hunter2@127.0.0.1:8080"'),
        f'[control_plane] url: {URL_RULE}, got "http://ops:hunter2@127.0.0.1:8080"',
    ),
    (
        "a zero timeout",
        replaced("timeout_s = 5", "timeout_s = 0"),
        f"[control_plane] timeout_s: {TIMEOUT_RULE}, got 0",
    ),
    (
        "a NaN timeout",
        replaced("timeout_s = 5", "timeout_s = nan"),
        f"[control_plane] timeout_s: {TIMEOUT_RULE}, got nan",
    ),
    (
        "an infinite busy timeout",
        replaced('path = "events.sqlite"', 'path = "events.sqlite"\nbusy_timeout_s = inf'),
        f"[event_store] busy_timeout_s: {TIMEOUT_RULE}, got inf",
    ),
    (
        "a negative threshold",
        GOOD + "\n[thresholds]\nprice_stale_after_s = -5\n",
        "[thresholds] price_stale_after_s: must be a finite number above 0, got -5",
    ),
    (
        "an infinite WAL limit",
        GOOD + "\n[thresholds]\nwal_max_mb = inf\n",
        "[thresholds] wal_max_mb: must be a finite number above 0, got inf",
    ),
    (
        "a tracking window of zero days",
        GOOD + "\n[tracking]\nwindow_days = 0\n",
        "[tracking] window_days: must be a number of days from 1 to 3650, got 0",
    ),
    (
        "a negative minimum of trades",
        GOOD + "\n[tracking]\nmin_trades = -1\n",
        "[tracking] min_trades: must be at least 1, got -1",
    ),
    (
        "a win-rate tolerance above one",
        GOOD + "\n[tracking]\nwin_rate_tolerance = 1.5\n",
        "[tracking] win_rate_tolerance: must be between 0 and 1, got 1.5",
    ),
    (
        "a negative minimum of events",
        GOOD + "\n[slo.run_success]\nmin_events = -5\n",
        "[slo.run_success] min_events: must be at least 1, got -5",
    ),
    (
        "an objective of one",
        GOOD + "\n[slo.trade_persistence]\nobjective = 1\n",
        "[slo.trade_persistence] objective: must be strictly between 0 and 1, got 1",
    ),
    (
        "an SLO window of zero days",
        GOOD + "\n[slo.heartbeat_delivery]\nwindow_days = 0\n",
        "[slo.heartbeat_delivery] window_days: must be a number of days from 1 to 3650, got 0",
    ),
    (
        "a latency threshold of zero",
        GOOD + "\n[slo.broker_reconnection]\nthreshold_s = 0\n",
        "[slo.broker_reconnection] threshold_s: must be a finite number above 0, got 0",
    ),
    (
        "a margin warning above the critical level",
        GOOD + "\n[portfolio]\nmargin_closeout_warning = 0.9\nmargin_closeout_critical = 0.8\n",
        "[portfolio] margin_closeout_warning: must be below margin_closeout_critical (0.8), "
        "got 0.9",
    ),
    (
        "a drawdown limit of five times NAV",
        GOOD + "\n[portfolio]\nmax_drawdown = 5\n",
        "[portfolio] max_drawdown: must be strictly between 0 and 1, got 5",
    ),
    (
        "a daily loss limit of zero",
        GOOD + "\n[portfolio]\nmax_daily_loss = 0\n",
        "[portfolio] max_daily_loss: must be strictly between 0 and 1, got 0",
    ),
    (
        "the same account under two brokers",
        GOOD + SECOND_BROKER.replace("001-004-7654321-001", "101-004-1234567-001"),
        "[[brokers]] oanda-live accounts: an account belongs to one broker, "
        "'101-004-1234567-001' is listed under 'oanda-practice' too",
    ),
    (
        "two brokers of one name",
        GOOD + SECOND_BROKER.replace("oanda-live", "oanda-practice"),
        "[[brokers]] name: must be unique, 'oanda-practice' appears twice",
    ),
    (
        "a negative keep period",
        GOOD + "\n[reports]\nkeep_days = -1\n",
        "[reports] keep_days: must be a whole number of days from 7 to 36500, got -1",
    ),
    (
        "a keep period under the week's floor",
        GOOD + "\n[reports]\nkeep_days = 6\n",
        "[reports] keep_days: must be a whole number of days from 7 to 36500, got 6",
    ),
    (
        "an empty platform name",
        GOOD + '\n[platform]\nname = "  "\n',
        '[platform] name: must not be empty, got "  "',
    ),
]


@pytest.mark.parametrize(("text", "rule"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_nonsensical_manifest_is_one_line_naming_the_file_the_key_and_the_rule(
    tmp_path, text, rule
):
    path = tmp_path / "ops.toml"
    path.write_text(text)
    with pytest.raises(ManifestError) as refused:
        load_manifest(path, ENV)
    assert str(refused.value) == f"{path}: {rule}"


def test_the_good_manifest_of_the_matrix_loads(tmp_path):
    path = tmp_path / "ops.toml"
    path.write_text(GOOD + SECOND_BROKER)
    assert len(load_manifest(path, ENV).accounts) == 2


def _numeric_fields() -> list[tuple[type, dataclasses.Field]]:
    records = [config.PlatformConfig, config.ControlPlaneConfig, config.EventStoreConfig]
    records += [config.BrokerConfig, config.Thresholds, config.TrackingConfig]
    records += [config.PortfolioConfig, config.SloConfig, config.ReportsConfig]
    found = []
    for cls in records:
        hints = typing.get_type_hints(cls)
        for spec in dataclasses.fields(cls):
            if spec.metadata.get("toml", True) and hints[spec.name] is not bool:
                found.append((cls, spec))
    return found


@pytest.mark.parametrize(
    ("cls", "spec"), _numeric_fields(), ids=lambda v: getattr(v, "name", getattr(v, "__name__", ""))
)
def test_every_key_but_a_switch_has_a_rule_and_its_default_keeps_it(cls, spec):
    rule = spec.metadata.get("rule")
    assert rule is not None, f"{cls.__name__}.{spec.name} has no rule"
    if spec.default not in (dataclasses.MISSING, None):
        assert rule.holds(spec.default)


def test_the_operations_models_slo_defaults_keep_their_rules():
    for slo in config.SLO_DEFAULTS.values():
        for spec in dataclasses.fields(slo):
            value = getattr(slo, spec.name)
            if "rule" in spec.metadata and value is not None:
                assert spec.metadata["rule"].holds(value), (slo, spec.name)


END_TO_END = ["a zero timeout", "a negative keep period", "the same account under two brokers"]


@pytest.mark.parametrize("case", END_TO_END)
def test_the_suite_stops_on_a_nonsensical_manifest_with_a_usage_error(tmp_path, case):
    text, rule = next(c[1:] for c in CASES if c[0] == case)
    path = tmp_path / "etc" / "ops.toml"
    path.parent.mkdir()
    path.write_text(text)
    run = run_suite(
        tmp_path, "-m", "preflight", "--ops-config", str(path), "-p", "no:xdist", env=ENV
    )
    assert run.returncode == 4, run.output[-2000:]
    assert f"{path}: {rule}" in run.output
    assert "Traceback" not in run.output
    assert run.summary is None  # refused before any check ran
