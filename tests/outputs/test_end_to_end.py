"""A real run of the suite against a sandbox fault writes the textfile, and the Nagios plugin
reads the same run's JSON: both say what the run's verdict document says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.suite_runner import run_kept, run_suite, sandbox_platform
from tradeops.outputs import nagios


def test_a_stale_heartbeat_preflight_exports_its_p1_failure_and_nagios_says_critical(
    tmp_path: Path,
) -> None:
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    run = run_suite(
        tmp_path,
        "-m",
        "preflight",
        "--sandbox=stale-heartbeat",
        "--ops-sandbox-days=3",
        f"--ops-prometheus={textfiles}",
    )
    assert run.returncode == 10, run.output[-3000:]
    path = textfiles / "tradeops_preflight.prom"
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(path.read_text())
        for s in family.samples
    }
    failed = sorted(
        dict(labels)["check"]
        for (name, labels), value in samples.items()
        if name == "tradeops_check_failed" and value == 1
    )
    assert failed == sorted(run.failed())
    assert (
        samples[("tradeops_verdict", frozenset({"kind": "preflight", "verdict": "red"}.items()))]
        == 1
    )
    assert samples[("tradeops_exit_code", frozenset({"kind": "preflight"}.items()))] == 10
    complete = (
        "tradeops_last_complete_run_timestamp_seconds",
        frozenset({"kind": "preflight"}.items()),
    )
    assert complete in samples

    done = subprocess.run(
        [sys.executable, "-m", "tradeops.outputs.nagios", str(tmp_path / "summary.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == nagios.CRITICAL, done.stdout
    assert done.stdout.startswith("TRADEOPS CRITICAL - RED: highest severity P1")


def test_the_manifests_outputs_section_names_the_textfile_directory(tmp_path: Path) -> None:
    with sandbox_platform(tmp_path / "sbx", "healthy", "--days", "3") as (manifest, env):
        manifest.write_text(manifest.read_text() + '\n[outputs]\nprometheus_dir = "textfile"\n')
        (manifest.parent / "textfile").mkdir()
        run = run_kept(tmp_path, "-m", "preflight", "--ops-config", str(manifest), env=env)
    assert run.returncode == 0, run.output[-3000:]
    assert (manifest.parent / "textfile" / "tradeops_preflight.prom").is_file()
