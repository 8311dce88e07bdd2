"""The suite's own probe history and the control plane availability SLI computed from it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.slo.conftest import DAY, MINUTE
from tests.test_config import ENV, GOOD
from tradeops.config import SLO_DEFAULTS, load_manifest
from tradeops.slo.history import MAX_ERROR_CHARS, ProbeHistory, history_path

AVAILABILITY = SLO_DEFAULTS["control_plane_availability"]


def test_a_recorded_probe_reads_back_with_its_outcome_latency_and_error(tmp_path, now_ms):
    history = ProbeHistory(tmp_path / "reports" / "probe-history.sqlite")
    history.record(now_ms - MINUTE, True, 12.5)
    history.record(None, False, None, "control plane down: connection refused")
    probes = history.probes(now_ms - DAY, now_ms)
    assert [(p.ts, p.ok, p.latency_ms, p.error) for p in probes] == [
        (now_ms - MINUTE, True, 12.5, None),
        (now_ms, False, None, "control plane down: connection refused"),  # None: frozen now
    ]
    mode = sqlite3.connect(history.path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_availability_is_healthy_probes_over_probes_in_the_window(tmp_path, now_ms):
    history = ProbeHistory(tmp_path / "h.sqlite")
    for i in range(40):  # 40 probes in the last 40 hours, 2 of them failed
        history.record(now_ms - i * 60 * MINUTE, ok=i not in (3, 30), latency_ms=5.0)
    history.record(now_ms - 31 * DAY, ok=False, latency_ms=None, error="old")  # outside 30 d
    history.record(now_ms + MINUTE, ok=False, latency_ms=None, error="future")  # after now
    m = history.measure(AVAILABILITY, now_ms)
    assert (m.window.eligible, m.window.bad) == (40, 2)
    # last 6 h: probes 0..5 (probe 6 is exactly 6 h ago: outside), one failed (3)
    assert (m.alert_windows["6h"].eligible, m.alert_windows["6h"].bad) == (6, 1)


def test_no_history_yet_is_no_data_not_an_error(tmp_path, now_ms):
    m = ProbeHistory(tmp_path / "absent.sqlite").measure(AVAILABILITY, now_ms)
    assert m.window.eligible == 0 and not m.errors
    assert "no probe history yet" in m.notes[0]
    assert not (tmp_path / "absent.sqlite").exists()  # reading never creates it


def test_an_unreadable_history_is_an_error_naming_the_file(tmp_path, now_ms):
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    m = ProbeHistory(path).measure(AVAILABILITY, now_ms)
    assert m.errors and str(path) in m.errors[0]


def test_a_runaway_error_message_is_cut(tmp_path, now_ms):
    history = ProbeHistory(tmp_path / "h.sqlite")
    history.record(now_ms, False, None, "x" * 10_000)
    (probe,) = history.probes(now_ms - 1, now_ms)
    assert len(probe.error) == MAX_ERROR_CHARS


WRITER = textwrap.dedent(
    """
    import sys
    from tradeops.slo.history import ProbeHistory
    path, name, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    history = ProbeHistory(path)
    for i in range(count):
        history.record(1_000_000 * name + i, ok=i % 2 == 0, latency_ms=1.0)
    """
)


def test_concurrent_suite_runs_record_every_probe(tmp_path):
    path = tmp_path / "shared" / "probe-history.sqlite"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(n), "60"])
        for n in range(1, 5)
    ]
    codes = [w.wait(timeout=60) for w in writers]
    assert codes == [0, 0, 0, 0]
    probes = ProbeHistory(path).probes(0, 10**12)
    assert len(probes) == 240
    assert sum(p.ok for p in probes) == 120


def test_the_history_lives_under_reports_unless_the_manifest_says_otherwise(tmp_path):
    manifest_path = tmp_path / "etc" / "ops.toml"
    manifest_path.parent.mkdir()
    manifest_path.write_text(GOOD)
    default = load_manifest(manifest_path, ENV)
    assert history_path(default, Path("/suite")) == Path("/suite/reports/probe-history.sqlite")
    manifest_path.write_text(GOOD + '\n[reports]\ndir = "trail"\nhistory_db = "h.sqlite"\n')
    relative = load_manifest(manifest_path, ENV)
    assert history_path(relative, Path("/suite")) == tmp_path / "etc" / "trail" / "h.sqlite"
    manifest_path.write_text(GOOD + f'\n[reports]\nhistory_db = "{tmp_path}/abs.sqlite"\n')
    absolute = load_manifest(manifest_path, ENV)
    assert history_path(absolute, Path("/suite")) == tmp_path / "abs.sqlite"
    assert history_path(default, Path("/suite"), "/trail") == Path("/trail/probe-history.sqlite")
