"""Waivers: a waived failure is WAIVED, never green, and leaves the exit code alone; an
expired one fails again saying so; an unused one is reported; a malformed one is refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.suite_runner import run_kept, sandbox_platform
from tests.test_config import GOOD
from tradeops.config import ManifestError, load_manifest
from tradeops.reports import chain
from tradeops.waivers import Waiver, apply, parse

TODAY = date(2026, 12, 1)
FAILED = {"check": "residual_runs", "subject": None, "outcome": "failed", "summary": "x"}
ENV = {"CONTROL_PLANE_TOKEN": "cp-token-0123456789", "OANDA_TOKEN": "oanda-0123456789"}


def waiver(check: str = "residual_runs", expires: date = TODAY + timedelta(days=10)) -> Waiver:
    return Waiver(check, "known: TICKET-1", "alice", expires)


def test_an_active_waiver_marks_the_failure_waived_and_says_by_whom():
    checks = [dict(FAILED)]
    done = apply(checks, (waiver(),), TODAY)
    assert checks[0]["outcome"] == "waived"
    assert done["applied"][0]["check"] == "residual_runs"
    assert done["applied"][0]["owner"] == "alice"


def test_a_pattern_covers_every_subject_of_a_check():
    checks = [{**FAILED, "check": "tracking_backtest", "subject": s} for s in ("a-1", "b-2")]
    apply(checks, (waiver("tracking_*"),), TODAY)
    assert [c["outcome"] for c in checks] == ["waived", "waived"]


def test_an_expired_waiver_turns_back_into_the_failure_and_says_it_expired():
    checks = [dict(FAILED)]
    done = apply(checks, (waiver(expires=TODAY),), TODAY)
    assert checks[0]["outcome"] == "failed"
    assert "waiver expired 2026-12-01" in checks[0]["summary"]
    assert done["expired"][0]["check"] == "residual_runs"


def test_a_waiver_that_matched_nothing_is_reported_unused():
    done = apply([dict(FAILED)], (waiver("drawdown"),), TODAY)
    assert done["unused"] == [waiver("drawdown").to_json()]


def test_a_passed_check_is_never_waived():
    checks = [{**FAILED, "outcome": "passed"}]
    done = apply(checks, (waiver(),), TODAY)
    assert checks[0]["outcome"] == "passed" and done["unused"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"check": "x", "reason": "r", "owner": "o"}, "missing key 'expires'"),
        ({"check": "x", "reason": "r", "owner": "o", "expires": "soon"}, "expires must be"),
        ({"check": "x", "reason": "", "owner": "o", "expires": TODAY}, "reason must be"),
        ({"check": "x", "reason": "r", "owner": "o", "expires": TODAY, "why": 1}, "unknown"),
        (
            {"check": "x", "reason": "r", "owner": "o", "expires": TODAY + timedelta(days=91)},
            "more than 90 days out",
        ),
    ],
)
def test_a_malformed_waiver_is_refused_naming_the_rule(entry, message):
    with pytest.raises(ValueError, match=message):
        parse([entry], TODAY)


def test_a_malformed_waiver_in_the_manifest_is_a_manifest_error(tmp_path):
    path = tmp_path / "ops.toml"
    path.write_text(GOOD + '\n[[waivers]]\ncheck = "x"\nreason = "r"\nowner = "o"\n')
    with pytest.raises(ManifestError, match=r"ops.toml: \[\[waivers\]\] #1: missing key"):
        load_manifest(path, ENV)


@pytest.mark.slow
def test_a_waived_failure_is_reported_waived_keeps_exit_zero_and_is_in_the_chain(tmp_path):
    today = datetime.now(UTC).date()
    with sandbox_platform(tmp_path / "sbx", "residual-run", "--days", "3") as (manifest, env):
        text = manifest.read_text()
        manifest.write_text(
            f'{text}\n[[waivers]]\ncheck = "residual_runs"\nreason = "known: TICKET-9"\n'
            f'owner = "bob"\nexpires = {today + timedelta(days=5)}\n'
            f'\n[[waivers]]\ncheck = "drawdown"\nreason = "r"\nowner = "bob"\n'
            f"expires = {today + timedelta(days=5)}\n"
        )
        run = run_kept(tmp_path, "-m", "preflight", "--ops-config", str(manifest), env=env)
        manifest.write_text(
            f'{text}\n[[waivers]]\ncheck = "residual_runs"\nreason = "r"\nowner = "bob"\n'
            f"expires = {today}\n"
        )
        (tmp_path / "x").mkdir()
        expired = run_kept(
            tmp_path / "x", "-m", "preflight", "--ops-config", str(manifest), env=env
        )
    assert run.returncode == 0, run.output[-3000:]
    assert run.doc["counts"]["outcome"]["waived"] == 1
    assert run.doc["headline"].startswith("GREEN: no check failed (1 waived)")
    assert "WAIVED residual_runs: known: TICKET-9 (bob" in run.output
    assert "waiver unused: drawdown" in run.output
    (entry,) = [e for e in chain.read_entries(run.reports) if e["action"] == "add"]
    assert entry["run"]["waived"] == ["residual_runs"]
    assert expired.returncode == 10, expired.output[-3000:]
    assert f"waiver EXPIRED for residual_runs on {today}" in expired.output
