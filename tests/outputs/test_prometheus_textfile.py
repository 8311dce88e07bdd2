"""The Prometheus textfile says what the verdict document says, is replaced atomically,
and carries the last complete run's time through runs that judged less."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.outputs.documents import FINISHED_S, check, document, red, slo
from tradeops.outputs import prometheus

LATER = "2026-12-01T23:30:00.000Z"
LATER_S = FINISHED_S + 3600 - 0.61


def samples(path: Path) -> dict[tuple[str, frozenset], float]:
    """(name, labels) -> value of every sample in a textfile."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
    }


def value(path: Path, name: str, **labels: str) -> float | None:
    return samples(path).get((name, frozenset(labels.items())))


class Config:
    """The slice of pytest's Config an output reads: getoption."""

    def __init__(self, **options: object) -> None:
        self.options = options

    def getoption(self, name: str, default: object = None) -> object:
        return self.options.get(name, default)


def test_a_run_writes_its_kinds_own_file_in_the_collector_directory(tmp_path: Path) -> None:
    config = Config(ops_prometheus=str(tmp_path))
    assert prometheus.wanted(config)
    assert prometheus.write(document(kind="promote-gate"), config) == [
        tmp_path / "tradeops_promote_gate.prom"
    ]
    assert prometheus.write(document(kind="slo"), config) == [tmp_path / "tradeops_slo.prom"]


def test_no_directory_means_no_textfile() -> None:
    assert not prometheus.wanted(Config())


def test_a_run_evaluated_as_of_the_past_exports_nothing(tmp_path: Path) -> None:
    doc = document(as_of="2026-11-20T09:00:00Z")
    assert prometheus.write(doc, Config(ops_prometheus=str(tmp_path))) == []
    assert list(tmp_path.iterdir()) == []


def test_the_verdict_is_a_state_set_with_the_runs_time_duration_and_exit_code(
    tmp_path: Path,
) -> None:
    path = prometheus.write_textfile(red("P1", exit_code=10), tmp_path / "t.prom")
    kind = {"kind": "preflight"}
    assert [value(path, "tradeops_verdict", **kind, verdict=v) for v in prometheus.VERDICTS] == [
        0,
        1,
        0,
        0,
    ]
    assert value(path, "tradeops_run_timestamp_seconds", **kind) == pytest.approx(FINISHED_S)
    assert value(path, "tradeops_run_duration_seconds", **kind) == 0.61
    assert value(path, "tradeops_exit_code", **kind) == 10
    assert value(path, "tradeops_failed_checks", **kind, severity="P1") == 2
    assert value(path, "tradeops_checks", **kind, outcome="passed") == 3
    assert value(path, "tradeops_checks_judged", **kind) == 5


def test_each_check_item_is_one_series_labelled_check_subject_layer_severity_outcome(
    tmp_path: Path,
) -> None:
    doc = document(
        "red",
        [
            check("heartbeat_fresh", "failed", "P1", subject="s1"),
            check("clock_skew", "passed", "P2", layer="platform"),
            check("fills_persisted", "error", "P0", subject="101-004"),
            check("exposure", "skipped", "P2", layer="portfolio"),
        ],
    )
    path = prometheus.write_textfile(doc, tmp_path / "t.prom")
    got = {
        dict(labels)["check"]: (dict(labels), v)
        for (name, labels), v in samples(path).items()
        if name == "tradeops_check_failed"
    }
    assert got["heartbeat_fresh"] == (
        {
            "kind": "preflight",
            "check": "heartbeat_fresh",
            "subject": "s1",
            "layer": "strategy",
            "severity": "P1",
            "outcome": "failed",
        },
        1,
    )
    assert got["fills_persisted"][1] == 1  # an error is the platform's failure too
    assert (got["clock_skew"][1], got["clock_skew"][0]["subject"]) == (0, "")
    assert (got["exposure"][1], got["exposure"][0]["outcome"]) == (0, "skipped")


def test_each_slo_exports_its_budget_and_the_burn_rate_of_every_window(tmp_path: Path) -> None:
    doc = document(
        kind="slo",
        slo=[
            slo("run_success", remaining=0.25, rates={"1h": 20.0, "5m": 30.0}),
            slo("promote_gate_latency", remaining=None, rates=dict.fromkeys(("5m", "1h"))),
        ],
    )
    path = prometheus.write_textfile(doc, tmp_path / "t.prom")
    run = {"kind": "slo", "slo": "run_success"}
    assert value(path, "tradeops_slo_budget_remaining_ratio", **run) == 0.25
    assert value(path, "tradeops_slo_budget_consumed_ratio", **run) == 0.75
    assert value(path, "tradeops_slo_objective_ratio", **run) == 0.995
    assert value(path, "tradeops_slo_window_seconds", **run) == 30 * 86400
    rates = {
        w: value(path, "tradeops_slo_burn_rate", **run, window=w) for w in prometheus_windows()
    }
    assert rates == {"5m": 30.0, "30m": 0.2, "1h": 20.0, "6h": 0.4, "3d": 0.5}
    assert value(path, "tradeops_slo_alert_firing", **run, pair="1h/5m", severity="page") == 1
    assert value(path, "tradeops_slo_burn_threshold", **run, pair="3d/6h", severity="ticket") == 1
    assert value(path, "tradeops_slo_status", **run, severity="P2", verdict="ok") == 1
    gate = {"kind": "slo", "slo": "promote_gate_latency"}
    # Too little data: no budget figure and no rate where the window had no events.
    assert value(path, "tradeops_slo_budget_remaining_ratio", **gate) is None
    assert value(path, "tradeops_slo_burn_rate", **gate, window="1h") is None
    assert value(path, "tradeops_slo_burn_rate", **gate, window="6h") == 0.4


def prometheus_windows() -> tuple[str, ...]:
    return ("5m", "30m", "1h", "6h", "3d")


def test_a_complete_run_sets_the_last_complete_time(tmp_path: Path) -> None:
    path = prometheus.write_textfile(red("P2"), tmp_path / "t.prom")
    assert value(path, prometheus.LAST_COMPLETE, kind="preflight") == pytest.approx(FINISHED_S)
    assert value(path, "tradeops_run_complete", kind="preflight") == 1


@pytest.mark.parametrize(
    "later",
    [
        document("incomplete", finished=LATER),
        document("not_checked", finished=LATER),
        red("P2", finished=LATER, suite_errors=[{"check": "x", "message": "KeyError"}]),
        document(
            "green",
            finished=LATER,
            completeness={"selected": 5, "judged": 1, "narrowed_by": "-k clock", "ran": 1},
        ),
    ],
    ids=["incomplete", "not-checked", "red-with-a-suite-defect", "narrowed-by-k"],
)
def test_a_run_that_judged_less_keeps_the_previous_complete_time(
    tmp_path: Path, later: dict
) -> None:
    path = tmp_path / "t.prom"
    prometheus.write_textfile(document("green"), path)
    prometheus.write_textfile(later, path)
    assert value(path, prometheus.LAST_COMPLETE, kind="preflight") == pytest.approx(FINISHED_S)
    assert value(path, "tradeops_run_timestamp_seconds", kind="preflight") == pytest.approx(
        LATER_S + 0.61
    )
    assert value(path, "tradeops_run_complete", kind="preflight") == 0


def test_the_next_complete_run_advances_it(tmp_path: Path) -> None:
    path = tmp_path / "t.prom"
    prometheus.write_textfile(document("green"), path)
    prometheus.write_textfile(document("incomplete", finished=LATER), path)
    prometheus.write_textfile(red("P1", finished=LATER), path)
    assert value(path, prometheus.LAST_COMPLETE, kind="preflight") == pytest.approx(LATER_S + 0.61)


def test_a_suite_that_never_completed_exports_no_last_complete_time(tmp_path: Path) -> None:
    path = prometheus.write_textfile(document("not_checked"), tmp_path / "t.prom")
    assert value(path, prometheus.LAST_COMPLETE, kind="preflight") is None


def test_a_damaged_previous_file_is_replaced_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "t.prom"
    path.write_bytes(b"tradeops_last_complete_run_timestamp_seconds{ \xff garbage\n")
    prometheus.write_textfile(document("incomplete"), path)
    assert value(path, "tradeops_verdict", kind="preflight", verdict="incomplete") == 1
    assert value(path, prometheus.LAST_COMPLETE, kind="preflight") is None


def test_the_file_is_replaced_by_rename_leaving_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "t.prom"
    prometheus.write_textfile(document("green"), path)
    before = os.stat(path).st_ino
    prometheus.write_textfile(red("P1"), path)
    assert os.stat(path).st_ino != before  # a new file renamed over the old one
    assert [p.name for p in tmp_path.iterdir()] == ["t.prom"]
