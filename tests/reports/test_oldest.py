"""Retention's sidecar: prune with it does what prune by a full read does, only cheaper.

Each test builds a reports root, copies it without the sidecar, prunes both the same
way and compares the two: the same return value, the same chain, the same files left.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.reports.fakes import T0, files_of, record_run, record_runs, run_writers
from tradeops.reports import _oldest, chain

OLD = T0 - timedelta(days=400)  # past a keep period of 365 days at T0
BEFORE_DUE = T0 - timedelta(days=40)  # a clock at which OLD is still kept
AFTER = T0 + timedelta(days=1)


def prune(root: Path, now: datetime = AFTER, keep_days: int = 365, **kw) -> dict | None:
    with chain.locked(root):
        return chain.prune(root, keep_days, now=now, **kw)


def full_reads(monkeypatch) -> list[Path]:
    """The roots prune reads whole from now on, one item per read."""
    reads: list[Path] = []
    read = chain.read_entries

    def counted(root: Path) -> list[dict]:
        reads.append(root)
        return read(root)

    monkeypatch.setattr(chain, "read_entries", counted)
    return reads


def tree(root: Path) -> dict[str, bytes]:
    """Every file under root but the sidecar and the lock, with its bytes."""
    skip = {_oldest.SIDECAR_NAME, chain.LOCK_NAME}
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name not in skip
    }


def truth(root: Path) -> _oldest.Oldest | None:
    """What the sidecar says after a full read of the chain as it now is."""
    entries = chain.read_entries(root)
    size = (root / chain.CHAIN_NAME).stat().st_size if entries else 0
    return _oldest.Oldest.of(entries, chain.live_runs(entries), chain.GENESIS, size)


def agrees_with_a_full_read(root: Path, tmp_path: Path, **kw) -> tuple[dict | None, list]:
    """Prune root (sidecar as it is) and a copy without it; assert the same outcome.

    Returns prune's answer and the whole-chain reads the sidecar's root paid.
    """
    full = tmp_path / "full-read"
    shutil.copytree(root, full)
    (full / _oldest.SIDECAR_NAME).unlink(missing_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        counted = full_reads(patch)
        answer = prune(root, **kw)
        reads = [r for r in counted if r == root]
    assert answer == prune(full, **kw)
    assert tree(root) == tree(full)
    assert _oldest.load(full) == truth(full)  # the full read rewrote a missing sidecar
    return answer, reads


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """One old run and three recent ones, pruned once while nothing was due."""
    reports = tmp_path / "reports"
    record_run(reports, OLD)
    record_runs(reports, 3)
    assert prune(reports, now=BEFORE_DUE) is None
    return reports


def test_the_first_check_reads_the_chain_once_and_leaves_the_oldest_start_beside_it(root):
    assert _oldest.load(root) == truth(root)
    assert _oldest.load(root).started == chain.utc_text(OLD)
    assert _oldest.load(root).seq == 4


def test_nothing_due_answers_from_the_sidecar_without_reading_the_chain(root, tmp_path):
    record_run(root, T0 + timedelta(days=2))  # this run's own entry, before its prune
    answer, reads = agrees_with_a_full_read(root, tmp_path, now=BEFORE_DUE)
    assert (answer, reads) == (None, [])
    assert _oldest.load(root) == truth(root)  # caught up to this run's head


def test_something_due_reads_the_chain_prunes_as_before_and_updates_the_sidecar(root, tmp_path):
    answer, reads = agrees_with_a_full_read(root, tmp_path)
    assert answer is not None and reads == [root]
    assert {r["run"] for r in answer["removed"]} == {chain.read_entries(root)[0]["run"]["id"]}
    assert _oldest.load(root) == truth(root)
    assert _oldest.load(root).started == chain.utc_text(T0)  # the oldest left
    assert _oldest.load(root).head == answer["hash"]


def test_the_check_after_a_pruning_is_answered_from_the_sidecar_again(root, monkeypatch):
    assert prune(root) is not None
    record_run(root, AFTER)
    reads = full_reads(monkeypatch)
    assert prune(root, now=AFTER + timedelta(hours=1)) is None
    assert reads == []


def test_a_missing_sidecar_means_a_full_read_which_writes_it_again(root, tmp_path):
    (root / _oldest.SIDECAR_NAME).unlink()
    answer, reads = agrees_with_a_full_read(root, tmp_path, now=BEFORE_DUE)
    assert (answer, reads) == (None, [root])
    assert _oldest.load(root) == truth(root)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[]",
        '{"v": 2, "seq": 4, "head": "x", "size": 9, "started": null}',  # "nothing due"
        '{"v": 1, "seq": "4", "head": "x", "size": 9, "started": null}',
        '{"v": 1, "seq": 4, "size": 9, "started": null}',
        '{"v": 1, "seq": 4, "head": "x", "started": null}',
        '{"v": 1, "seq": 4, "head": "x", "size": -1, "started": null}',
        '{"v": 1, "seq": 4, "head": "x", "size": 0, "started": null}',
        '{"v": 1, "seq": 4, "head": "x", "size": 9, "started": "last week"}',
        '{"v": 1, "seq": 4, "head": "x", "size": 9, "started": "2026-11-20T09:00:00"}',
    ],
    ids=[
        "garbled",
        "not-an-object",
        "other-version",
        "seq-text",
        "no-head",
        "no-size",
        "negative-size",
        "empty-yet-seq-4",
        "no-time",
        "naive",
    ],
)
def test_a_corrupt_sidecar_is_not_trusted_the_chain_is_read_instead(root, tmp_path, text):
    (root / _oldest.SIDECAR_NAME).write_text(text)
    assert _oldest.load(root) is None
    answer, reads = agrees_with_a_full_read(root, tmp_path, now=BEFORE_DUE)
    assert (answer, reads) == (None, [root])
    assert _oldest.load(root) == truth(root)


@pytest.mark.parametrize("since", [0, 2], ids=["nothing-since", "runs-since"])
@pytest.mark.parametrize(
    "change",
    [
        lambda sidecar: {"head": "0" * 64},
        lambda sidecar: {"seq": sidecar["seq"] + 1},
        lambda sidecar: {"size": sidecar["size"] - 1},  # not a line's end
        lambda sidecar: {"size": sidecar["size"] + 1},  # past the chain's end
    ],
    ids=["other-head", "other-seq", "mid-line", "past-the-end"],
)
def test_a_sidecar_that_does_not_fit_the_chain_is_not_trusted(root, tmp_path, change, since):
    for i in range(since):
        record_run(root, T0 + timedelta(days=2, hours=i))
    sidecar = json.loads((root / _oldest.SIDECAR_NAME).read_text())
    # "Nothing is due, ever", were it believed; not fitting the chain, it is not.
    (root / _oldest.SIDECAR_NAME).write_text(
        json.dumps({**sidecar, **change(sidecar), "started": None})
    )
    answer, reads = agrees_with_a_full_read(root, tmp_path, now=BEFORE_DUE)
    assert (answer, reads) == (None, [root])
    assert _oldest.load(root) == truth(root)


# -- the chain moved on without the sidecar ------------------------------------------------


def test_a_run_already_past_retention_recorded_by_another_writer_is_pruned(root, tmp_path):
    late = record_run(root, OLD - timedelta(days=30))  # a clock far behind, or a backfill
    answer, reads = agrees_with_a_full_read(root, tmp_path, now=BEFORE_DUE)
    assert reads == [root]
    assert [r["run"] for r in answer["removed"]] == [late["run"]["id"]] * 3


def test_a_month_of_runs_without_keep_days_is_folded_in_without_a_full_read(root, tmp_path):
    for i in range(120):  # runs without [reports] keep_days never call prune
        record_run(root, T0 + timedelta(days=2, hours=6 * i))
    assert _oldest.load(root).seq == 4
    answer, reads = agrees_with_a_full_read(root, tmp_path, now=BEFORE_DUE)
    assert (answer, reads) == (None, [])
    assert _oldest.load(root) == truth(root)


def test_a_pruning_the_sidecar_missed_costs_one_full_read_not_a_wrong_answer(root, tmp_path):
    stale = (root / _oldest.SIDECAR_NAME).read_bytes()
    assert prune(root) is not None  # e.g. an older tradeops, which keeps no sidecar
    (root / _oldest.SIDECAR_NAME).write_bytes(stale)
    record_run(root, AFTER)
    # The stale start (OLD) is earlier than the truth: due, so read, and nothing is.
    answer, reads = agrees_with_a_full_read(root, tmp_path, now=AFTER + timedelta(hours=1))
    assert (answer, reads) == (None, [root])
    assert _oldest.load(root) == truth(root)


def _rewrite_chain(root: Path, edit) -> None:
    lines = (root / chain.CHAIN_NAME).read_text().splitlines()
    (root / chain.CHAIN_NAME).write_text("".join(f"{line}\n" for line in edit(lines)))


def _edit_second(lines: list[str]) -> list[str]:
    entry = json.loads(lines[1])
    entry["run"]["verdict"] = "red"  # "green" before: the lines after it move
    return [lines[0], json.dumps(entry, sort_keys=True, separators=(",", ":")), *lines[2:]]


@pytest.mark.parametrize(
    "edit",
    [lambda lines: lines[:-3], lambda lines: [lines[0], *lines[2:]], _edit_second],
    ids=["truncated-before-it", "entry-before-it-removed", "entry-before-it-edited"],
)
def test_a_chain_rewritten_under_the_sidecar_is_read_whole(root, tmp_path, edit):
    record_run(root, T0 + timedelta(days=2))
    record_run(root, T0 + timedelta(days=3))
    _rewrite_chain(root, edit)
    answer, reads = agrees_with_a_full_read(root, tmp_path, now=BEFORE_DUE)
    assert (answer, reads) == (None, [root])
    assert _oldest.load(root) == truth(root)


def test_a_chain_cut_back_to_the_sidecars_head_is_still_answered_by_it(root, tmp_path):
    record_run(root, T0 + timedelta(days=2))
    _rewrite_chain(root, lambda lines: lines[:-1])  # e.g. restored from last night's copy
    answer, reads = agrees_with_a_full_read(root, tmp_path, now=BEFORE_DUE)
    assert (answer, reads) == (None, [])


def test_a_half_written_last_line_stops_prune_as_a_full_read_does(root):
    record_run(root, T0 + timedelta(days=2))
    _rewrite_chain(root, lambda lines: [*lines[:-1], lines[-1][:40]])
    with pytest.raises(chain.ChainError, match="line 5 is not a chain entry"):
        prune(root, now=BEFORE_DUE)


def test_a_chain_removed_under_the_sidecar_has_nothing_to_prune(root, tmp_path):
    (root / chain.CHAIN_NAME).unlink()
    answer, reads = agrees_with_a_full_read(root, tmp_path)
    assert (answer, reads) == (None, [root])
    assert _oldest.load(root) == _oldest.Oldest(0, chain.GENESIS, 0, None)


# -- the rest of retention is unchanged ------------------------------------------------------


def test_a_fresh_root_and_then_its_first_runs_are_answered_from_the_sidecar(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    assert prune(reports) is None
    record_runs(reports, 2)
    answer, reads = agrees_with_a_full_read(reports, tmp_path)
    assert (answer, reads) == (None, [])


def test_the_run_just_recorded_is_spared_with_the_sidecar_as_without(root, tmp_path):
    mine = record_run(root, OLD + timedelta(days=1))  # an old clock: due, but spared
    answer, _ = agrees_with_a_full_read(root, tmp_path, spare=mine["run"]["id"])
    assert mine["run"]["id"] not in {r["run"] for r in answer["removed"]}
    assert all((root / p).is_file() for p in files_of(mine))


def test_a_tampered_old_run_is_kept_as_evidence_with_the_sidecar_as_without(root, tmp_path):
    old = chain.read_entries(root)[0]
    (root / files_of(old)[0]).write_text("<html>rewritten</html>")
    for _ in range(2):  # kept, so still the oldest live run: the next check reads again
        answer, reads = agrees_with_a_full_read(root, tmp_path)
        assert answer["kept_unverified"] == [old["run"]["id"]] and reads == [root]
        shutil.rmtree(tmp_path / "full-read")


def test_verify_ignores_the_sidecar(root):
    assert chain.verify(root).intact
    assert (root / _oldest.SIDECAR_NAME).is_file()


PRUNING_WRITER = """
import sys
from datetime import timedelta
from pathlib import Path
from tests.reports.fakes import T0, record_run
from tradeops.reports import chain
root, worker = Path(sys.argv[1]), int(sys.argv[2])
for i in range(4):
    record_run(root, T0 - timedelta(days=400 if i == worker else 0, minutes=worker * 10 + i))
    with chain.locked(root):
        chain.prune(root, 365, now=T0 + timedelta(days=1))
"""


def test_concurrent_pruning_writers_leave_a_sidecar_true_to_the_chain(tmp_path):
    run_writers(PRUNING_WRITER, tmp_path, 3)
    result = chain.verify(tmp_path)
    assert result.intact, result.message()
    assert result.runs == 9  # each writer's one old run was pruned by someone
    assert prune(tmp_path) is None
    assert _oldest.load(tmp_path) == truth(tmp_path)
