"""The chain: ten runs verify intact, and any change, removal or insertion is named."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.reports.fakes import T0, files_of, record_run, record_runs, run_writers
from tradeops.reports import chain

REPO = Path(__file__).resolve().parents[2]


def test_a_fresh_reports_root_is_intact_with_no_runs(tmp_path):
    result = chain.verify(tmp_path)
    assert result.intact
    assert result.message() == (
        f"intact: 0 runs, 0 files, 0 chain entries, head {chain.GENESIS[:12]}"
    )


def test_ten_recorded_runs_verify_intact(tmp_path):
    entries = record_runs(tmp_path, 10)
    result = chain.verify(tmp_path)
    assert result.intact, result.message()
    assert (result.runs, result.files, result.entries) == (10, 30, 10)
    assert result.head == entries[-1]["hash"]
    assert [e["prev"] for e in entries[1:]] == [e["hash"] for e in entries[:-1]]


def test_editing_one_byte_of_any_report_names_that_report(tmp_path):
    entries = record_runs(tmp_path, 10)
    for relative in [path for entry in entries for path in files_of(entry)]:
        path = tmp_path / relative
        original = path.read_bytes()
        path.write_bytes(bytes([original[0] ^ 1]) + original[1:])
        result = chain.verify(tmp_path)
        assert not result.intact
        assert result.problems[0].path == relative
        assert result.message().startswith(f"NOT intact: {relative} was changed: sha256 recorded")
        path.write_bytes(original)
    assert chain.verify(tmp_path).intact


def test_a_removed_report_is_named_as_removed(tmp_path):
    entries = record_runs(tmp_path, 3)
    gone = files_of(entries[1])[0]
    (tmp_path / gone).unlink()
    result = chain.verify(tmp_path)
    assert [(p.kind, p.path) for p in result.problems] == [("removed", gone)]


def test_a_planted_report_is_named_as_inserted(tmp_path):
    entries = record_runs(tmp_path, 2)
    folder = (tmp_path / files_of(entries[0])[0]).parent
    (folder / "preflight-20261120T093000Z-deadbeef.html").write_text("<html>all green</html>")
    result = chain.verify(tmp_path)
    assert result.message() == (
        f"NOT intact: {folder.name}/preflight-20261120T093000Z-deadbeef.html was inserted: "
        "not recorded in the chain"
    )


def test_an_empty_reservation_is_a_note_not_a_problem(tmp_path):
    record_runs(tmp_path, 1)
    (tmp_path / "2026-11-20" / "full-20261120T120000Z-0badf00d.html").touch()
    result = chain.verify(tmp_path)
    assert result.intact
    assert "a run in progress or killed" in result.notes[0]


def _rewrite_chain(root: Path, edit) -> None:
    lines = (root / chain.CHAIN_NAME).read_text().splitlines()
    (root / chain.CHAIN_NAME).write_text("".join(f"{line}\n" for line in edit(lines)))


def test_an_edited_chain_entry_is_named(tmp_path):
    record_runs(tmp_path, 3)

    def flip_verdict(lines):
        entry = json.loads(lines[1])
        entry["run"]["verdict"] = "green" if entry["run"]["verdict"] == "red" else "red"
        return [lines[0], json.dumps(entry), *lines[2:]]

    _rewrite_chain(tmp_path, flip_verdict)
    result = chain.verify(tmp_path)
    assert str(result.problems[0]) == (
        "chain.jsonl entry #2: was altered (its hash does not match)"
    )


def test_a_deleted_chain_entry_is_named_and_its_files_become_inserted(tmp_path):
    entries = record_runs(tmp_path, 3)
    _rewrite_chain(tmp_path, lambda lines: [lines[0], lines[2]])
    result = chain.verify(tmp_path)
    assert result.problems[0].path == "chain.jsonl entry #2"
    inserted = {p.path for p in result.problems if p.kind == "inserted"}
    assert inserted == set(files_of(entries[1]))


def test_a_garbled_chain_line_is_the_first_problem(tmp_path):
    record_runs(tmp_path, 2)
    _rewrite_chain(tmp_path, lambda lines: [lines[0], "{not json"])
    result = chain.verify(tmp_path)
    assert "line 2 is not a chain entry" in result.message()


def test_a_chain_truncated_with_its_files_is_caught_by_the_noted_head(tmp_path):
    entries = record_runs(tmp_path, 3)
    anchor = entries[-1]["hash"][:16]
    for relative in files_of(entries[-1]):
        (tmp_path / relative).unlink()
    _rewrite_chain(tmp_path, lambda lines: lines[:2])
    assert chain.verify(tmp_path).intact  # without an anchor, a clean truncation is silent
    result = chain.verify(tmp_path, expect_head=anchor)
    assert result.problems[0].kind == "anchor"


def test_pruning_removes_old_runs_and_verification_still_holds(tmp_path):
    old = [record_run(tmp_path, T0 - timedelta(days=400 - i)) for i in range(3)]
    new = record_runs(tmp_path, 2)
    with chain.locked(tmp_path):
        entry = chain.prune(tmp_path, keep_days=365, now=T0 + timedelta(days=1))
    assert entry is not None
    assert {r["run"] for r in entry["removed"]} == {e["run"]["id"] for e in old}
    assert not any((tmp_path / p).exists() for e in old for p in files_of(e))
    result = chain.verify(tmp_path)
    assert result.intact, result.message()
    assert result.runs == len(new)
    assert [e["run"]["id"] for e in chain.live_runs(chain.read_entries(tmp_path))] == [
        e["run"]["id"] for e in new
    ]


def test_nothing_due_means_no_prune_entry(tmp_path):
    record_runs(tmp_path, 2)
    with chain.locked(tmp_path):
        assert chain.prune(tmp_path, keep_days=365, now=T0 + timedelta(days=1)) is None
    assert len(chain.read_entries(tmp_path)) == 2


def test_a_pruned_report_put_back_is_named_as_inserted(tmp_path):
    old = record_run(tmp_path, T0 - timedelta(days=400))
    saved = {p: (tmp_path / p).read_bytes() for p in files_of(old)}
    record_runs(tmp_path, 1)
    with chain.locked(tmp_path):
        chain.prune(tmp_path, keep_days=365, now=T0)
    path, content = next(iter(saved.items()))
    (tmp_path / path).parent.mkdir(exist_ok=True)
    (tmp_path / path).write_bytes(content)
    assert (
        chain.verify(tmp_path)
        .message()
        .startswith(f"NOT intact: {path} was inserted: pruned by retention, present again")
    )


def test_retention_keeps_a_tampered_old_run_as_evidence(tmp_path):
    old = record_run(tmp_path, T0 - timedelta(days=400))
    tampered = files_of(old)[0]
    (tmp_path / tampered).write_text("<html>rewritten</html>")
    with chain.locked(tmp_path):
        entry = chain.prune(tmp_path, keep_days=365, now=T0)
    assert entry is not None
    assert entry["kept_unverified"] == [old["run"]["id"]]
    assert (tmp_path / tampered).exists()
    assert chain.verify(tmp_path).problems[0].path == tampered


def test_the_run_just_recorded_is_spared_even_with_keep_days_zero(tmp_path):
    (entry,) = record_runs(tmp_path, 1)
    with chain.locked(tmp_path):
        assert (
            chain.prune(tmp_path, 0, now=T0 + timedelta(hours=1), spare=entry["run"]["id"]) is None
        )


WRITER = """
import sys
from datetime import timedelta
from pathlib import Path
from tests.reports.fakes import T0, record_run
root, worker = Path(sys.argv[1]), int(sys.argv[2])
for i in range(5):
    record_run(root, T0 + timedelta(minutes=worker * 10 + i))
"""


def test_concurrent_writer_processes_keep_one_unbroken_chain(tmp_path):
    run_writers(WRITER, tmp_path, 4)
    result = chain.verify(tmp_path)
    assert result.intact, result.message()
    assert (result.entries, result.runs, result.files) == (20, 20, 60)
    assert [e["seq"] for e in chain.read_entries(tmp_path)] == list(range(1, 21))


@pytest.mark.parametrize("kind", ["changed", "removed"])
def test_the_cli_says_intact_or_names_the_report_with_exit_status_one(tmp_path, kind):
    entries = record_runs(tmp_path, 3)

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tradeops.reports", *args, "--dir", str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=REPO,
        )

    done = cli("verify")
    assert (done.returncode, done.stdout.split(":")[0]) == (0, "intact")
    target = tmp_path / files_of(entries[2])[1]
    if kind == "changed":
        target.write_text(target.read_text() + " ")
    else:
        target.unlink()
    done = cli("verify")
    assert done.returncode == 1
    assert done.stdout.startswith(f"NOT intact: {files_of(entries[2])[1]} was {kind}")


def test_verifying_a_root_that_does_not_exist_creates_nothing(tmp_path):
    assert chain.verify(tmp_path / "absent").intact
    assert not (tmp_path / "absent").exists()


# -- retention cannot erase the trail by accident -----------------------------------------


def reports_cli(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tradeops.reports", *args, "--dir", str(root)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=REPO,
    )


def test_keep_days_minus_one_can_no_longer_remove_36_kept_runs(tmp_path):
    runs = [record_run(tmp_path, T0 - timedelta(hours=4 * i)) for i in range(36)]  # 6 days
    with chain.locked(tmp_path):
        assert chain.prune(tmp_path, keep_days=-1, now=T0 + timedelta(minutes=1)) is None
    result = chain.verify(tmp_path)
    assert result.intact and result.runs == 36
    assert all((tmp_path / p).is_file() for e in runs for p in files_of(e))


def test_retention_never_prunes_reports_younger_than_the_floor_whatever_it_is_told(tmp_path):
    old = record_run(tmp_path, T0 - timedelta(days=8))
    young = record_run(tmp_path, T0 - timedelta(days=6))
    with chain.locked(tmp_path):
        entry = chain.prune(tmp_path, keep_days=0, now=T0)
    assert entry is not None
    assert {r["run"] for r in entry["removed"]} == {old["run"]["id"]}
    assert (entry["keep_days"], entry["asked_keep_days"]) == (chain.RETENTION_FLOOR_DAYS, 0)
    assert all((tmp_path / p).is_file() for p in files_of(young))


def test_a_chain_of_runs_recorded_before_platforms_were_named_still_verifies(tmp_path):
    entries = record_runs(tmp_path, 2)
    old_style = {k: v for k, v in entries[0]["run"].items() if k != "platform"}
    with chain.locked(tmp_path):
        chain.append_run(tmp_path, [], old_style, T0 + timedelta(hours=3))
    assert chain.verify(tmp_path).intact
    assert len(chain.live_runs(chain.read_entries(tmp_path))) == 2  # no files: nothing live


def test_verify_lists_what_retention_removed_and_when(tmp_path):
    old = [record_run(tmp_path, T0 - timedelta(days=400 - i)) for i in range(2)]
    record_runs(tmp_path, 1)
    done = reports_cli(tmp_path, "prune", "--keep-days", "365")
    assert done.returncode == 0, done.stderr
    done = reports_cli(tmp_path, "verify")
    assert done.returncode == 0
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("  pruned: ")]
    assert "retention (keep 365 days) removed 2 runs (6 files): " in line
    assert all(e["run"]["id"] in line for e in old)
    at = chain.read_entries(tmp_path)[-1]["at"]
    assert line.startswith(f"  pruned: {at}: ")


def test_the_prune_command_refuses_a_keep_period_under_the_floor(tmp_path):
    record_runs(tmp_path, 1)
    done = reports_cli(tmp_path, "prune", "--keep-days", "-1")
    assert done.returncode == 2
    assert "--keep-days must be at least 7" in done.stderr
    assert chain.verify(tmp_path).runs == 1
