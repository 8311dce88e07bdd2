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
from tradeops.slo.history import MAX_ERROR_CHARS, ProbeHistory, history_of, history_path

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


# -- one platform, one history -------------------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE probes (
  id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, ok INTEGER NOT NULL,
  latency_ms REAL, error TEXT
);
CREATE INDEX probes_ts ON probes(ts);
"""


def manifest_of(tmp_path: Path, name: str, extra: str = "") -> object:
    path = tmp_path / name / "ops.toml"
    path.parent.mkdir()
    path.write_text(GOOD + extra + f'\n[reports]\ndir = "{tmp_path / "shared-reports"}"\n')
    return load_manifest(path, ENV)


def test_two_platforms_sharing_a_reports_dir_never_count_each_others_probes(tmp_path, now_ms):
    healthy = manifest_of(tmp_path, "prod", '\n[platform]\nname = "prod-eu"\n')
    down = manifest_of(tmp_path, "drill", '\n[platform]\nname = "staging"\n')
    prod, staging = history_of(healthy, tmp_path), history_of(down, tmp_path)
    assert prod.path == staging.path  # one file, two platforms
    for i in range(30):
        prod.record(now_ms - i * 60 * MINUTE, ok=True, latency_ms=5.0)
        staging.record(now_ms - i * 60 * MINUTE, ok=False, latency_ms=None, error="down")
    mine = prod.measure(AVAILABILITY, now_ms)
    theirs = staging.measure(AVAILABILITY, now_ms)
    assert (mine.window.eligible, mine.window.bad) == (30, 0)
    assert (theirs.window.eligible, theirs.window.bad) == (30, 30)
    assert {p.ok for p in prod.probes(0, now_ms)} == {True}


def test_the_platform_defaults_to_the_control_plane_url(tmp_path):
    manifest = manifest_of(tmp_path, "prod")
    assert history_of(manifest, tmp_path).platform == "http://127.0.0.1:8080"


def test_an_old_history_file_gains_the_platform_column_and_keeps_its_rows(tmp_path, now_ms):
    path = tmp_path / "probe-history.sqlite"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.execute("INSERT INTO probes (ts, ok, latency_ms, error) VALUES (?, 0, NULL, 'x')", [now_ms])
    old.commit()
    old.close()
    history = ProbeHistory(path, platform="prod-eu")
    history.record(now_ms, ok=True, latency_ms=1.0)
    rows = sqlite3.connect(path).execute("SELECT ok, platform FROM probes ORDER BY id").fetchall()
    assert rows == [(0, None), (1, "prod-eu")]  # the old probe kept, belonging to no name
    m = history.measure(AVAILABILITY, now_ms)
    assert (m.window.eligible, m.window.bad) == (1, 0)


def test_reading_an_old_history_file_changes_nothing(tmp_path, now_ms):
    path = tmp_path / "probe-history.sqlite"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.execute("INSERT INTO probes (ts, ok) VALUES (?, 1)", [now_ms])
    old.commit()
    old.close()
    before = path.read_bytes()
    m = ProbeHistory(path, platform="prod-eu").measure(AVAILABILITY, now_ms)
    assert m.window.eligible == 0 and not m.errors
    assert ProbeHistory(path, platform="prod-eu").probes(0, now_ms) == []
    assert path.read_bytes() == before


UPGRADER = textwrap.dedent(
    """
    import sys
    from tradeops.slo.history import ProbeHistory
    history = ProbeHistory(sys.argv[1], platform=sys.argv[2])
    for i in range(20):
        history.record(1_000 + i, ok=True, latency_ms=1.0)
    """
)


def test_runs_upgrading_one_old_file_at_once_all_record(tmp_path):
    path = tmp_path / "probe-history.sqlite"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()
    writers = [
        subprocess.Popen([sys.executable, "-c", UPGRADER, str(path), f"p{n}"]) for n in range(3)
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0]
    for n in range(3):
        assert len(ProbeHistory(path, platform=f"p{n}").probes(0, 10**6)) == 20
