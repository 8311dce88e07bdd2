"""`--ops-as-of` names a past instant the store can speak for, or the run stops (exit 4)."""

from __future__ import annotations

import pytest

from tests.storebuilder import StoreBuilder
from tests.suite_runner import run_suite
from tests.test_config import ENV, GOOD
from tradeops.instants import AsOfError, parse_as_of, require_history

NOW = 1_795_000_000_000  # 2026-11-18T11:06:40Z
HOUR = 3_600_000


def refusal(value: str) -> str:
    with pytest.raises(AsOfError) as refused:
        parse_as_of(value, NOW)
    return str(refused.value)


def test_an_rfc3339_instant_with_its_zone_is_taken():
    assert parse_as_of("2026-11-18T10:06:40Z", NOW) == NOW - HOUR
    assert parse_as_of("2026-11-18T11:06:40+01:00", NOW) == NOW - HOUR


def test_an_instant_in_the_future_is_refused_naming_the_value():
    message = refusal("2030-01-01T00:00:00Z")
    assert message.startswith("--ops-as-of '2030-01-01T00:00:00Z': in the future")


def test_an_instant_without_a_time_zone_is_refused():
    assert "no time zone" in refusal("2026-11-18T08:00:00")


def test_a_bare_date_is_refused():
    assert refusal("2026-11-18") == (
        "--ops-as-of '2026-11-18': a date, not an instant; give a time and zone like "
        "2026-11-20T09:00:00Z"
    )


def test_text_that_is_no_time_is_refused():
    assert "expected an RFC 3339 time" in refusal("yesterday")


def store_from(tmp_path, first_ts: int):
    return (
        StoreBuilder(tmp_path / "events.sqlite", now_ms=NOW)
        .run_started("r-1", strategy_id="mr-eurusd-01", ts=first_ts)
        .heartbeats("r-1", count=3)
        .write()
    )


def test_an_instant_before_the_stores_first_event_is_refused(tmp_path):
    store = store_from(tmp_path, NOW - 2 * HOUR)
    with pytest.raises(AsOfError, match=r"first event \(2026-11-18T09:06:40Z\)"):
        require_history("2026-11-18T08:06:40Z", NOW - 3 * HOUR, str(store), 2.0)
    require_history("2026-11-18T10:06:40Z", NOW - HOUR, str(store), 2.0)  # after it: taken


def test_an_empty_store_has_no_instant_to_judge_at(tmp_path):
    store = StoreBuilder(tmp_path / "events.sqlite", now_ms=NOW).write()
    with pytest.raises(AsOfError, match="holds no events"):
        require_history("2026-11-18T10:06:40Z", NOW - HOUR, str(store), 2.0)


def test_an_unreadable_store_is_left_to_the_checks(tmp_path):
    require_history("2026-11-18T10:06:40Z", NOW - HOUR, str(tmp_path / "absent.sqlite"), 2.0)


@pytest.mark.parametrize("value", ["2030-01-01T00:00:00Z", "2020-01-01T00:00:00Z", "2026-11-18"])
def test_the_suite_stops_with_a_usage_error_naming_the_value(tmp_path, value):
    store_from(tmp_path, NOW - 2 * HOUR)  # events.sqlite beside the manifest, as GOOD says
    manifest = tmp_path / "ops.toml"
    manifest.write_text(GOOD)
    run = run_suite(
        tmp_path,
        "-m",
        "slo",
        "--ops-config",
        str(manifest),
        f"--ops-as-of={value}",
        "-p",
        "no:xdist",
        env=ENV,
        paths=("slo",),
    )
    assert run.returncode == 4, run.output[-2000:]
    assert f"--ops-as-of {value!r}: " in run.output
    assert "Traceback" not in run.output
