"""When the oldest live run started, kept beside the chain so retention need not read it.

`chain.prune` runs after every run whose manifest sets `[reports] keep_days`, and it is
almost always a no-op: nothing started more than keep_days ago since the last pruning.
Finding that out by reading the whole chain costs 1.6 s at 50,000 runs. So the reports
root keeps `.retention-state.json`: the start of the oldest live (unpruned) run, and the
chain's seq, head hash and length in bytes it was computed at. When that start is not
before the cutoff, no run is, and prune returns without reading the chain.

The sidecar is a cache, never an authority. It is believed only if the chain still has a
line ending where the sidecar says and the first entry after it links onto the sidecar's
head (or, with nothing after it, the chain's last entry is that head): a chain truncated,
replaced, or with a line removed, inserted or resized before that point fails it (an edit
that keeps every length is `verify`'s to find). Entries
appended since (by runs without keep_days, or an older tradeops) are read from that
point and folded in: an "add" can only make the oldest start earlier; a "prune" only
removes runs, so the start is kept, perhaps earlier than the truth, which costs the next
check one full read, never a wrong answer. Missing, unreadable, another version, not
linking: prune reads the whole chain as it always did, and rewrites the sidecar. Both
happen under the chain's exclusive lock, so concurrent runs (cron and CI at once) each
see the other's chain and sidecar whole.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from tradeops._record import frozen_record

SIDECAR_NAME = ".retention-state.json"
SIDECAR_VERSION = 1


@frozen_record
class Oldest:
    """The start of the oldest live run (None: no live run) as of chain entry `seq`,
    whose line ends `size` bytes into the chain file."""

    seq: int
    head: str
    size: int
    started: str | None

    def due(self, cutoff: datetime) -> bool:
        """True when some live run may have started before the cutoff."""
        return self.started is not None and _parse(self.started) < cutoff

    @classmethod
    def of(cls, entries: list[dict], live: list[dict], genesis: str, size: int) -> Oldest | None:
        """From the whole chain (`size` bytes) and its live runs; None if a start in it
        cannot be compared with a cutoff."""
        last = entries[-1] if entries else {}
        oldest = cls(int(last.get("seq", 0)), str(last.get("hash", genesis)), size, None)
        return oldest.with_starts(live)

    def with_starts(self, adds: list[dict]) -> Oldest | None:
        """With the starts of the runs `adds` taken in; None if one cannot meet a cutoff."""
        started, earliest = self.started, _instant(self.started)
        for entry in adds:
            start = _start(entry)
            moment = _instant(start)
            if moment is None:
                return None
            if earliest is None or moment < earliest:
                started, earliest = start, moment
        return Oldest(self.seq, self.head, self.size, started)

    def folded(self, new: list[dict], size: int) -> Oldest | None:
        """Brought forward over `new`, the entries after `head` (the chain now `size`
        bytes); None when they do not follow on from it."""
        previous = self.head
        for seq, entry in enumerate(new, self.seq + 1):
            if entry.get("seq") != seq or entry.get("prev") != previous:
                return None  # not the chain the sidecar saw: let a full read decide
            previous = entry.get("hash", "")
        # A prune removes runs; an add without files is never live.
        adds = [e for e in new if e.get("action") == "add" and e.get("files")]
        moved = Oldest(self.seq + len(new), previous, size, self.started)
        return moved.with_starts(adds)


def current(chain_path: Path, last: Callable[[], dict | None]) -> Oldest | None:
    """The sidecar beside `chain_path` brought up to the chain's head, or None: the
    chain must be read whole. `last` gives the chain's last entry (read from its end)."""
    oldest = load(chain_path.parent)
    if oldest is None:
        return None
    try:
        with chain_path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(oldest.size - 1, 0))
            if oldest.size and handle.read(1) != b"\n":
                return None  # the sidecar's point is not a line's end (or past the end)
            rest = handle.read()
    except FileNotFoundError:
        return oldest if oldest.size == 0 else None
    new = _entries(rest)
    if new is None:
        return None
    if not new and oldest.size:  # nothing since: the chain's last entry must be the head
        end = last()
        if end is None or (end.get("hash"), end.get("seq")) != (oldest.head, oldest.seq):
            return None
    return oldest.folded(new, size)


def load(root: Path) -> Oldest | None:
    """The sidecar as written, or None if it is missing, unreadable or not this version."""
    try:
        data = json.loads((root / SIDECAR_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("v") != SIDECAR_VERSION:
        return None
    fields = data.get("seq"), data.get("head"), data.get("size"), data.get("started")
    seq, head, size, started = fields
    if not (isinstance(seq, int) and isinstance(head, str) and isinstance(size, int)):
        return None
    if min(seq, size) < 0 or (seq == 0) != (size == 0):
        return None  # an empty chain is seq 0 at 0 bytes, and only it
    if started is not None and _instant(started) is None:
        return None
    return Oldest(seq, head, size, started)


def save(root: Path, oldest: Oldest | None) -> None:
    """Write the sidecar atomically; None removes it, so the next check reads the chain.

    A sidecar that cannot be written costs only speed: the one left names an older
    point of the chain, which the next check folds forward from or does not trust.
    """
    path = root / SIDECAR_NAME
    if oldest is None:
        with contextlib.suppress(OSError):
            path.unlink()
        return
    body = {
        "v": SIDECAR_VERSION,
        "seq": oldest.seq,
        "head": oldest.head,
        "size": oldest.size,
        "started": oldest.started,
    }
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        partial.write_text(json.dumps(body), encoding="utf-8")
        os.replace(partial, path)  # the old sidecar or the new one, never half
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink()


def _entries(data: bytes) -> list[dict] | None:
    """The chain entries in `data`, or None for a line that is not one (cut, garbled)."""
    entries = []
    for line in data.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            return None
        if not isinstance(entry, dict):
            return None
        entries.append(entry)
    return entries


def _start(entry: dict) -> str | None:
    run = entry.get("run")
    return run.get("started") if isinstance(run, dict) else None


def _instant(started: object) -> datetime | None:
    """An RFC 3339 instant with its offset, else None: a naive time cannot meet a cutoff."""
    if not isinstance(started, str):
        return None
    try:
        moment = _parse(started)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
