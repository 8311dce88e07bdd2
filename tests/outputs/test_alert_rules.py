"""The generated alerting rules: valid for promtool, scaled to each SLO's window as the
suite judges, and, in promtool's own rule tests, paging on a fast burn only."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tradeops.config import SLO_DEFAULTS
from tradeops.slo import alert_rules
from tradeops.slo.budget import ALERT_RULES

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool missing: apt-get install prometheus (CI installs it)"
)
SCRAPED = {"instance": "ops-host:9100", "job": "node"}


def generate(
    tmp_path: Path, *args: str, manifest: str | None = None
) -> subprocess.CompletedProcess:
    """Run the documented command in a child process, from a directory with no ops.toml."""
    if manifest is not None:
        (tmp_path / "ops.toml").write_text(manifest)
        args = ("--ops-config", str(tmp_path / "ops.toml"), *args)
    return subprocess.run(
        [sys.executable, "-m", "tradeops.slo", "rules", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )


def rule_file(tmp_path: Path, manifest: str | None = None) -> Path:
    done = generate(tmp_path, manifest=manifest)
    assert done.returncode == 0, done.stderr
    path = tmp_path / "tradeops.rules.yml"
    path.write_text(done.stdout)
    return path


def burn_rules(path: Path, slo: str) -> dict[str, dict]:
    """pair -> rule of one SLO's burn-rate alerts in a generated file."""
    groups = {g["name"]: g for g in yaml.safe_load(path.read_text())["groups"]}
    return {
        r["labels"]["pair"]: r
        for r in groups[f"tradeops-slo-{slo}"]["rules"]
        if "pair" in r["labels"]
    }


@needs_promtool
def test_promtool_accepts_the_generated_rules(tmp_path: Path) -> None:
    done = subprocess.run(
        [PROMTOOL, "check", "rules", str(rule_file(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(SLO_DEFAULTS) * 4 + 2} rules found" in done.stdout


def test_every_slo_has_each_workbook_rule_at_the_suites_own_scaled_threshold(
    tmp_path: Path,
) -> None:
    path = rule_file(tmp_path)
    for name, cfg in SLO_DEFAULTS.items():
        rules = burn_rules(path, name)
        assert set(rules) == {r.pair for r in ALERT_RULES}
        for rule in ALERT_RULES:
            generated = rules[rule.pair]
            assert generated["labels"]["severity"] == rule.severity
            assert f"> {rule.factor(cfg.window_days)!r} and" in generated["expr"]
            assert generated["annotations"]["runbook_url"].startswith("docs/runbooks.md#slo-")


def test_the_manifests_objectives_windows_and_runbook_url_are_the_rules(tmp_path: Path) -> None:
    manifest = (
        '[reports]\nrunbook_url = "https://ops.example/runbooks.html"\n'
        "[slo.run_success]\nobjective = 0.99\nwindow_days = 7\n"
    )
    page = burn_rules(rule_file(tmp_path, manifest), "run_success")["1h/5m"]
    assert "> 3.3600000000000003 and" in page["expr"]  # 14.4 x 1h/30d x 7d/1h
    assert page["annotations"]["runbook_url"] == "https://ops.example/runbooks.html#slo-run-success"


@pytest.mark.parametrize(
    ("manifest", "says"),
    [
        ("[slo.run_success]\nobjective = 1.5\n", "objective: must be strictly between 0 and 1"),
        ("[slo.nonsense]\nobjective = 0.9\n", "unknown SLO [slo.nonsense]"),
        ("[slo\n", "not valid TOML"),
    ],
    ids=["objective-out-of-range", "unknown-slo", "not-toml"],
)
def test_a_bad_manifest_is_a_usage_error_naming_it(
    tmp_path: Path, manifest: str, says: str
) -> None:
    done = generate(tmp_path, manifest=manifest)
    assert (done.returncode, done.stdout) == (4, "")
    assert str(tmp_path / "ops.toml") in done.stderr and says in done.stderr


def test_a_bad_max_age_is_a_usage_error(tmp_path: Path) -> None:
    done = generate(tmp_path, "--max-age", "a while")
    assert done.returncode == 4 and "not a duration" in done.stderr


def series(slo: str, window: str, values: str) -> dict:
    labels = {"kind": "slo", "slo": slo, "window": window, **SCRAPED}
    text = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return {"series": f"tradeops_slo_burn_rate{{{text}}}", "values": values}


def burning(slo: str, **rates: float) -> list[dict]:
    """Every alert window of `slo` at a steady burn rate for 40 minutes (default 0.1)."""
    windows = {"5m": 0.1, "30m": 0.1, "1h": 0.1, "6h": 0.1, "3d": 0.1, **rates}
    return [series(slo, w, f"{r}x40") for w, r in windows.items()]


def expect(path: Path, slo: str, pair: str, value: float) -> dict:
    """The alert promtool must see firing: its labels and its annotations, $value expanded."""
    rule = burn_rules(path, slo)[pair]
    annotations = dict(rule["annotations"])
    annotations["description"] = annotations["description"].replace("{{ $value }}", f"{value:g}")
    return {
        "exp_labels": {"kind": "slo", "slo": slo, **SCRAPED, **rule["labels"]},
        "exp_annotations": annotations,
    }


def promtool_test(
    tmp_path: Path, rules: Path, cases: list[tuple[list[dict], list[dict]]]
) -> subprocess.CompletedProcess:
    """Run `promtool test rules`: each case's input series and the burn alerts expected at 30m."""
    tests = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": inputs,
                "alert_rule_test": [
                    {"eval_time": "30m", "alertname": "TradeopsSloBurnRate", "exp_alerts": alerts}
                ],
            }
            for inputs, alerts in cases
        ],
    }
    test_file = tmp_path / "rules.test.yml"
    test_file.write_text(json.dumps(tests))  # JSON is YAML
    return subprocess.run(
        [PROMTOOL, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60
    )


@needs_promtool
def test_a_fast_burn_pages_a_slow_burn_tickets_and_a_burn_that_stopped_is_quiet(
    tmp_path: Path,
) -> None:
    rules = rule_file(tmp_path)
    fast = burning("run_success", **{"1h": 20.0, "5m": 20.0})
    slow = burning("run_success", **dict.fromkeys(("5m", "30m", "1h", "6h", "3d"), 2.0))
    stopped = burning("run_success", **{"1h": 20.0, "5m": 1.0})  # the short window resets it
    done = promtool_test(
        tmp_path,
        rules,
        [
            (fast, [expect(rules, "run_success", "1h/5m", 20.0)]),
            (slow, [expect(rules, "run_success", "3d/6h", 2.0)]),
            (stopped, []),
        ],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


@needs_promtool
def test_the_page_threshold_scales_to_the_slos_window(tmp_path: Path) -> None:
    rules = rule_file(tmp_path)
    # A burn of 5: above a 7-day SLO's 3.36, below a 30-day SLO's 14.4.
    inputs = burning("trade_persistence", **{"1h": 5.0, "5m": 5.0}) + burning(
        "run_success", **{"1h": 5.0, "5m": 5.0}
    )
    done = promtool_test(
        tmp_path, rules, [(inputs, [expect(rules, "trade_persistence", "1h/5m", 5.0)])]
    )
    assert done.returncode == 0, done.stdout + done.stderr


@needs_promtool
def test_promtool_fails_the_test_when_a_slow_burn_is_expected_to_page(tmp_path: Path) -> None:
    # The harness can fail: the same slow burn expected to page is reported as wrong.
    rules = rule_file(tmp_path)
    slow = burning("run_success", **dict.fromkeys(("5m", "30m", "1h", "6h", "3d"), 2.0))
    done = promtool_test(tmp_path, rules, [(slow, [expect(rules, "run_success", "1h/5m", 2.0)])])
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr


def test_yaml_rendering_round_trips_quotes_braces_and_newlines() -> None:
    data = {"a": ["x'y", 'say "hi" {{ $value }}', "two\nlines", " padded", "", 1.5, True, None]}
    assert yaml.safe_load(alert_rules.to_yaml(data)) == data


@needs_promtool
def test_runs_that_stopped_completing_page_and_runs_that_keep_completing_do_not(
    tmp_path: Path,
) -> None:
    rules = rule_file(tmp_path)
    labels = ",".join(f'{k}="{v}"' for k, v in {"kind": "slo", **SCRAPED}.items())
    name = f"tradeops_last_complete_run_timestamp_seconds{{{labels}}}"
    stopped = {
        "alertname": "TradeopsRunsStopped",
        "eval_time": "3h",
        "exp_alerts": [
            {
                "exp_labels": {"kind": "slo", **SCRAPED, "severity": "page"},
                "exp_annotations": {
                    "summary": "no complete tradeops slo run for over 2h",
                    "description": "The last run that judged everything ended 3h 0m 0s ago: "
                    "cron or the timer stopped, or every run since was incomplete. "
                    "Nothing is watching the platform.",
                    "runbook_url": "docs/runbooks.md",
                },
            }
        ],
    }
    tests = {
        "rule_files": [str(rules)],
        "evaluation_interval": "1m",
        "tests": [
            # Completed once at t=0, then never again.
            {
                "interval": "1m",
                "input_series": [{"series": name, "values": "0x200"}],
                "alert_rule_test": [stopped],
            },
            # Completing every minute: the value is always now.
            {
                "interval": "1m",
                "input_series": [{"series": name, "values": "0+60x200"}],
                "alert_rule_test": [{**stopped, "exp_alerts": []}],
            },
        ],
    }
    test_file = tmp_path / "runs.test.yml"
    test_file.write_text(json.dumps(tests))
    done = subprocess.run(
        [PROMTOOL, "test", "rules", str(test_file)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
