"""The textfile as operators consume it: Debian's node_exporter serves it, a real Prometheus
scrapes it and evaluates the generated rules, and the values come back over the HTTP API."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.outputs import stack as stack_module
from tests.outputs.documents import document, red, slo
from tests.outputs.stack import Stack
from tradeops.outputs import prometheus

pytestmark = pytest.mark.skipif(
    not (stack_module.NODE_EXPORTER and stack_module.PROMETHEUS),
    reason="apt-get install prometheus prometheus-node-exporter (CI installs them)",
)

FIRST = "2026-12-01T22:30:00.000Z"
FIRST_S = 1796164200.0
SECOND = "2026-12-01T22:35:00.000Z"
SECOND_S = FIRST_S + 300
BURNING = "2026-12-01T22:40:00.000Z"  # each test's runs end at their own time


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("stack")
    rules = work / "tradeops.rules.yml"
    generated = subprocess.run(
        [sys.executable, "-m", "tradeops.slo", "rules"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=work,
    )
    rules.write_text(generated.stdout)
    with stack_module.stack(work, [rules]) as running:
        yield running


def scraped(running: Stack, kind: str, finished_s: float) -> None:
    """Wait until Prometheus has scraped the textfile of the run that ended at finished_s."""
    running.wait_for(
        f'tradeops_run_timestamp_seconds{{kind="{kind}"}}',
        lambda r: bool(r) and float(r[0]["value"][1]) == finished_s,
    )


def test_prometheus_reads_back_the_verdict_each_check_and_each_slo(running: Stack) -> None:
    doc = red(
        "P1",
        kind="slo",
        finished=FIRST,
        exit_code=10,
        slo=[slo("run_success", remaining=0.25, rates={"1h": 20.0, "5m": 30.0})],
    )
    prometheus.write(doc, Config(running.textfile_dir))
    scraped(running, "slo", FIRST_S)

    assert running.value('node_textfile_scrape_error{job="node"}') == 0
    assert running.value('tradeops_verdict{kind="slo",verdict="red"}') == 1
    assert running.value('tradeops_verdict{kind="slo",verdict="green"}') == 0
    assert running.value('tradeops_exit_code{kind="slo"}') == 10
    assert running.value('tradeops_run_duration_seconds{kind="slo"}') == 0.61
    assert running.value('tradeops_last_complete_run_timestamp_seconds{kind="slo"}') == FIRST_S
    failed = running.query('tradeops_check_failed{kind="slo"} == 1')
    assert sorted(
        (m["metric"]["check"], m["metric"]["subject"], m["metric"]["severity"]) for m in failed
    ) == [("heartbeat_fresh", "s1", "P1"), ("heartbeat_fresh", "s2", "P1")]
    assert {m["metric"]["layer"] for m in failed} == {"strategy"}
    run = 'kind="slo",slo="run_success"'
    assert running.value(f"tradeops_slo_budget_remaining_ratio{{{run}}}") == 0.25
    assert running.value(f"tradeops_slo_budget_consumed_ratio{{{run}}}") == 0.75
    assert running.value(f'tradeops_slo_burn_rate{{{run},window="1h"}}') == 20.0
    assert running.value(f'tradeops_slo_burn_rate{{{run},window="5m"}}') == 30.0


def test_prometheus_fires_the_generated_page_rule_on_the_exported_burn(running: Stack) -> None:
    doc = document(
        "green",
        kind="slo",
        finished=BURNING,
        slo=[slo("run_success", rates={"1h": 20.0, "5m": 30.0})],
    )
    prometheus.write(doc, Config(running.textfile_dir))
    alerts = running.wait_for(
        'ALERTS{alertname="TradeopsSloBurnRate",alertstate="firing",slo="run_success"}',
        bool,
    )
    assert [(a["metric"]["pair"], a["metric"]["severity"]) for a in alerts] == [("1h/5m", "page")]


def test_an_incomplete_run_advances_the_run_time_but_not_the_last_complete_time(
    running: Stack,
) -> None:
    config = Config(running.textfile_dir)
    prometheus.write(document("green", kind="preflight", finished=FIRST), config)
    scraped(running, "preflight", FIRST_S)
    prometheus.write(document("incomplete", kind="preflight", finished=SECOND), config)
    scraped(running, "preflight", SECOND_S)

    # Two kinds' files in one directory: node_exporter merges their families without error.
    assert running.value('node_textfile_scrape_error{job="node"}') == 0
    assert running.value('tradeops_verdict{kind="preflight",verdict="incomplete"}') == 1
    assert running.value('tradeops_run_complete{kind="preflight"}') == 0
    last = 'tradeops_last_complete_run_timestamp_seconds{kind="preflight"}'
    assert running.value(last) == FIRST_S
    # What an operator's stopped-cron alert computes: the age of the last complete run.
    assert running.value(f"{SECOND_S} - {last}") == 300


class Config:
    """The slice of pytest's Config the output reads: --ops-prometheus DIR."""

    def __init__(self, directory: Path) -> None:
        self.directory = str(directory)

    def getoption(self, name: str, default: object = None) -> object:
        return self.directory if name == prometheus.OPTION else default
