"""The reports' manifest: an append-only chain of SHA-256 entries, and its verification.

`reports/chain.jsonl` holds one JSON entry a line. An "add" entry records one run's
files and their SHA-256; a "prune" entry records the files retention removed. Every
entry carries the hash of the one before it and its own hash over its canonical JSON,
so changing, removing or inserting a report, or editing the chain, shows in `verify`.
Pruning is itself an entry: a pruned report is expected to be absent, not "removed".

Writers hold an exclusive lock (`reports/.chain.lock`) while they write reports and
append; `verify` holds a shared one, so it never sees a run half-recorded.

Appending and retention's check with nothing due read only the chain's end, so a run
costs the same at any length of history (retention keeps the oldest live run's start in
a sidecar, see `_oldest`); pruning something, and `verify`, read the whole chain.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tradeops._record import frozen_record
from tradeops.config import RETENTION_FLOOR_DAYS
from tradeops.reports import _oldest
from tradeops.reports.paths import relative

CHAIN_NAME = "chain.jsonl"
LOCK_NAME = ".chain.lock"
GENESIS = "0" * 64
VERSION = 1
LOCK_TIMEOUT_S = 60.0  # a run waits this long for another run to finish recording
_TAIL_BLOCK = 1 << 16
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ChainError(Exception):
    """The chain cannot be read or written; the message says which file and why."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def entry_hash(entry: dict) -> str:
    """The hash an entry must carry: SHA-256 over its canonical JSON without `hash`."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def utc_text(moment: datetime) -> str:
    """An instant as the chain writes it: RFC 3339, UTC, milliseconds."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_utc(text: str) -> datetime:
    """The inverse of utc_text."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@contextmanager
def locked(root: Path, exclusive: bool = True) -> Iterator[None]:
    """Hold the reports root's lock; ChainError after LOCK_TIMEOUT_S, never a hang.

    A shared (reader's) lock on a root nobody can write, such as an auditor's read-only
    copy, is skipped: there is no writer to wait for.
    """
    if exclusive:
        root.mkdir(parents=True, exist_ok=True)
    try:
        handle = (root / LOCK_NAME).open("a")
    except OSError:
        if exclusive:
            raise
        yield
        return
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    with handle:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(handle, mode | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ChainError(
                        f"{root / LOCK_NAME}: still locked by another run after "
                        f"{LOCK_TIMEOUT_S:.0f} s"
                    ) from None
                time.sleep(0.02)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_entries(root: Path) -> list[dict]:
    """Every entry in order; [] for a fresh reports root. ChainError for a line that is
    not a JSON object (verify reports that as the first problem instead)."""
    path = root / CHAIN_NAME
    if not path.exists():
        return []
    entries = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                entry = None
            if not isinstance(entry, dict):
                raise ChainError(f"{path}: line {number} is not a chain entry")
            entries.append(entry)
    return entries


def tail(root: Path, count: int = 1) -> list[dict]:
    """The last `count` entries, oldest first, read backwards from the end of the file.

    What appending and the index need (the head hash, the next seq, what was added since
    the index was last written) costs the same with 10 entries or 50,000. ChainError for
    a line in that tail that is not a JSON object.
    """
    path = root / CHAIN_NAME
    if count <= 0 or not path.exists():
        return []
    with path.open("rb") as handle:
        end = handle.seek(0, os.SEEK_END)
        chunk, position = b"", end
        while position > 0 and chunk.count(b"\n") <= count:
            step = min(_TAIL_BLOCK, position)
            position -= step
            handle.seek(position)
            chunk = handle.read(step) + chunk
    lines = [line for line in chunk.split(b"\n") if line.strip()]
    if position > 0:
        lines = lines[1:]  # the first line may be cut: it is before the tail anyway
    entries = []
    for line in lines[-count:]:
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        if not isinstance(entry, dict):
            raise ChainError(f"{path}: a line near its end is not a chain entry")
        entries.append(entry)
    return entries


def head(entries: list[dict]) -> str:
    """The hash of the last entry (GENESIS for an empty chain)."""
    return entries[-1].get("hash", GENESIS) if entries else GENESIS


def live_runs(entries: list[dict]) -> list[dict]:
    """The "add" entries whose files retention has not pruned, oldest first."""
    pruned = {f["path"] for e in entries if e.get("action") == "prune" for f in e["removed"]}
    return [
        e
        for e in entries
        if e.get("action") == "add" and not all(f["path"] in pruned for f in e["files"])
    ]


def _append(root: Path, entries: list[dict], body: dict) -> dict:
    entry = _append_after(root, entries[-1] if entries else None, body)
    entries.append(entry)
    return entry


def _append_after(root: Path, last: dict | None, body: dict) -> dict:
    """Append `body` after the entry `last` (None: the first entry); return the entry."""
    seq = int(last.get("seq", 0)) + 1 if last else 1
    entry = {
        "v": VERSION,
        "seq": seq,
        **body,
        "prev": last.get("hash", GENESIS) if last else GENESIS,
    }
    entry["hash"] = entry_hash(entry)
    line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
    # "a": append-only by construction; fsync so a crash cannot lose an acknowledged entry.
    with (root / CHAIN_NAME).open("a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def append_run(root: Path, files: list[Path], run: dict, now: datetime | None = None) -> dict:
    """Record one run's files (call under `locked(root)`); return the new entry.

    Reads only the chain's last entry (its hash and seq), so it costs the same at any
    length of history; `verify` still checks every link.
    """
    last = tail(root, 1)
    records = [
        {"path": relative(root, f), "sha256": file_sha256(f), "bytes": f.stat().st_size}
        for f in files
    ]
    body = {"action": "add", "at": utc_text(now or datetime.now(UTC)), "run": run, "files": records}
    return _append_after(root, last[0] if last else None, body)


def prune(
    root: Path, keep_days: int, now: datetime | None = None, spare: str | None = None
) -> dict | None:
    """Delete runs started more than keep_days ago and record it (call under `locked`).

    Never younger than the floor: whatever keep_days says (a typo of -1 or 0 included),
    runs of the last RETENTION_FLOOR_DAYS stay. A run whose files no longer match the
    chain is kept: retention must not erase the evidence of tampering. `spare` names a
    run never pruned (the one just recorded). Returns the prune entry, or None when
    nothing was due.
    """
    now = now or datetime.now(UTC)
    asked, keep_days = keep_days, max(keep_days, RETENTION_FLOOR_DAYS)
    cutoff = now - timedelta(days=keep_days)
    # Every run asks and almost never is anything due: the sidecar's oldest live start,
    # checked against the chain's end, answers that; only "due" or "unknown" reads it all.
    oldest = _oldest.current(root / CHAIN_NAME, lambda: next(iter(tail(root, 1)), None))
    if oldest is not None and not oldest.due(cutoff):
        _oldest.save(root, oldest)  # at this head: the next run folds in only its own entry
        return None
    entries = read_entries(root)
    removed, kept = [], []
    live = live_runs(entries)
    for entry in live:
        if entry["run"]["id"] == spare or parse_utc(entry["run"]["started"]) >= cutoff:
            continue
        files = [(root / f["path"], f) for f in entry["files"]]
        if not all(p.is_file() and file_sha256(p) == f["sha256"] for p, f in files):
            kept.append(entry["run"]["id"])
            continue
        for path, record in files:
            path.unlink()
            removed.append(
                {"path": record["path"], "sha256": record["sha256"], "run": entry["run"]["id"]}
            )
            _remove_if_empty(path.parent)
    done = None
    if removed or kept:
        body = {
            "action": "prune",
            "at": utc_text(now),
            "keep_days": keep_days,
            **({"asked_keep_days": asked} if asked != keep_days else {}),
            "cutoff": utc_text(cutoff),
            "removed": removed,
            "kept_unverified": kept,
        }
        done = _append(root, entries, body)
    # After the entry: a crash between the two leaves a sidecar at the head before it,
    # which the next check catches up over (a prune keeps the start: merely early).
    size = (root / CHAIN_NAME).stat().st_size if entries else 0
    gone = {r["run"] for r in removed}  # (were one left in by mistake: an earlier start, safe)
    left = [e for e in live if e["run"]["id"] not in gone]
    _oldest.save(root, _oldest.Oldest.of(entries, left, GENESIS, size))
    return done


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty: other runs of that day are kept
        folder.rmdir()


@frozen_record
class Problem:
    """One way the reports differ from the chain."""

    kind: str  # changed, removed, inserted, chain, anchor
    path: str
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.path} was {self.kind}: {self.detail}"
            if self.kind in ("changed", "removed", "inserted")
            else f"{self.path}: {self.detail}"
        )


@frozen_record
class Pruned:
    """What one prune entry says retention removed, and when."""

    at: str
    keep_days: object
    runs: list[str]
    files: int
    kept_unverified: list[str]

    @classmethod
    def of(cls, entry: dict) -> Pruned:
        removed = entry.get("removed") or []
        runs = list(dict.fromkeys(str(r.get("run", "?")) for r in removed))
        return cls(
            str(entry.get("at", "?")),
            entry.get("keep_days", "?"),
            runs,
            len(removed),
            list(entry.get("kept_unverified") or []),
        )

    def __str__(self) -> str:
        text = (
            f"{self.at}: retention (keep {self.keep_days} days) removed {len(self.runs)} "
            f"run{'s' if len(self.runs) != 1 else ''} ({self.files} files)"
        )
        if self.runs:
            text += ": " + ", ".join(self.runs)
        if self.kept_unverified:
            text += f"; kept {len(self.kept_unverified)} that no longer verify"
        return text


@frozen_record
class Verification:
    """What `verify` found: intact or not, the problems in order, and what was checked."""

    problems: list[Problem]
    entries: int
    runs: int
    files: int
    head: str
    notes: list[str] = field(default_factory=list)
    pruned: list[Pruned] = field(default_factory=list)  # what retention removed, oldest first

    @property
    def intact(self) -> bool:
        """True when no report or chain entry differs."""
        return not self.problems

    def message(self) -> str:
        """One line: "intact ..." or "NOT intact: <first problem>"."""
        if self.intact:
            return (
                f"intact: {self.runs} runs, {self.files} files, {self.entries} chain "
                f"entries, head {self.head[:12]}"
            )
        more = len(self.problems) - 1
        tail = f" (and {more} more problem{'s' if more != 1 else ''})" if more else ""
        return f"NOT intact: {self.problems[0]}{tail}"


def verify(root: Path, expect_head: str | None = None) -> Verification:
    """Check the chain's links and every kept report's SHA-256; list what differs.

    expect_head: a chain hash (or a 12+ digit prefix) noted earlier, e.g. from CI logs;
    it must still be in the chain, which catches a chain truncated or rewritten whole.
    """
    with locked(root, exclusive=False):
        try:
            entries = read_entries(root)
        except ChainError as exc:
            return Verification([Problem("chain", CHAIN_NAME, str(exc))], 0, 0, 0, GENESIS)
        problems = _link_problems(entries)
        if expect_head and not _has_anchor(entries, expect_head):
            problems.append(
                Problem(
                    "anchor",
                    CHAIN_NAME,
                    f"no entry has hash {expect_head}: the chain was truncated or rewritten",
                )
            )
        live: dict[str, str] = {}
        pruned: set[str] = set()
        for entry in entries:
            if entry.get("action") == "add":
                live.update({f["path"]: f["sha256"] for f in entry.get("files", [])})
            elif entry.get("action") == "prune":
                for record in entry.get("removed", []):
                    live.pop(record["path"], None)
                    pruned.add(record["path"])
        for rel, digest in live.items():
            path = root / rel
            if not path.is_file():
                problems.append(Problem("removed", rel, "recorded in the chain, now missing"))
            elif (found := file_sha256(path)) != digest:
                problems.append(
                    Problem("changed", rel, f"sha256 recorded {digest[:12]}, now {found[:12]}")
                )
        notes = []
        for rel in _files_on_disk(root):
            if rel in live:
                continue
            path = root / rel
            if rel.endswith(".html") and path.stat().st_size == 0:
                notes.append(f"{rel}: empty, not recorded (a run in progress or killed)")
            elif rel in pruned:
                problems.append(Problem("inserted", rel, "pruned by retention, present again"))
            else:
                problems.append(Problem("inserted", rel, "not recorded in the chain"))
        runs = len(live_runs(entries))
        pruning = [Pruned.of(e) for e in entries if e.get("action") == "prune"]
        return Verification(problems, len(entries), runs, len(live), head(entries), notes, pruning)


def _link_problems(entries: list[dict]) -> list[Problem]:
    problems = []
    previous = GENESIS
    for number, entry in enumerate(entries, 1):
        where = f"{CHAIN_NAME} entry #{number}"
        if entry.get("seq") != number:
            problems.append(
                Problem(
                    "chain",
                    where,
                    f"has seq {entry.get('seq')}: an entry before it was removed or inserted",
                )
            )
        if entry.get("prev") != previous:
            problems.append(
                Problem(
                    "chain",
                    where,
                    "does not follow the entry before it: an "
                    "entry was removed, inserted or reordered",
                )
            )
        if entry.get("hash") != entry_hash(entry):
            problems.append(Problem("chain", where, "was altered (its hash does not match)"))
        previous = entry.get("hash", "")
    return problems


def _has_anchor(entries: list[dict], anchor: str) -> bool:
    anchor = anchor.strip().lower()
    return len(anchor) >= 12 and any(e.get("hash", "").startswith(anchor) for e in entries)


def _files_on_disk(root: Path) -> list[str]:
    """Every file in the date folders (not just well-named ones: anything planted counts)."""
    found: list[str] = []
    if not root.is_dir():
        return found
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and _DATE_DIR.match(p.name)):
        found += [f"{folder.name}/{f.name}" for f in sorted(folder.iterdir()) if f.is_file()]
    return found
