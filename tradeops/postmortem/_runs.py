"""What the suite's own kept runs say happened in a window, as timeline entries.

Read from the paper trail (reports/chain.jsonl and each run's JSON beside its report): the
first red run and its first red check, each change of the highest severity, and the first
green run after a red one, per kind of run (pre-flight, full, slo, promote-gate).
"""

from __future__ import annotations

import json
from pathlib import Path

from tradeops.postmortem._entries import DETECTED, NOTE, RECOVERED, Entry
from tradeops.reports.chain import ChainError, live_runs, parse_utc, read_entries


class KeptRunsError(Exception):
    """The paper trail cannot be read; the message names the file."""


def _file(entry: dict, ext: str) -> str | None:
    for f in entry.get("files", []):
        if str(f.get("path", "")).endswith(f".{ext}"):
            return f["path"]
    return None


def _failures(root: Path, entry: dict) -> list[dict]:
    """The run's failures, most severe first, from its JSON ([] if it is gone or unreadable)."""
    name = _file(entry, "json")
    if name is None:
        return []
    try:
        data = json.loads((root / name).read_text())
    except (OSError, ValueError):
        return []
    found = data.get("failures") if isinstance(data, dict) else None
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def _check_name(failure: dict) -> str:
    subject = failure.get("subject")
    return f"{failure.get('check')}[{subject}]" if subject else str(failure.get("check"))


def run_entries(
    root: Path, since_ms: int, until_ms: int
) -> tuple[list[Entry], set[tuple[str, str]]]:
    """Entries for the kept runs that started in [since, until), oldest first, and the
    subjects their failures named: ("strategy", id) and ("portfolio", account)."""
    try:
        entries = live_runs(read_entries(root))
    except ChainError as exc:
        raise KeptRunsError(str(exc)) from None
    last: dict[str, tuple[str, str | None]] = {}  # kind -> (verdict, highest severity)
    out: list[Entry] = []
    scope: set[tuple[str, str]] = set()
    for entry in entries:
        run = entry.get("run", {})
        try:
            ts = int(parse_utc(run["started"]).timestamp() * 1000)
        except (KeyError, TypeError, ValueError):
            continue
        kind, verdict, severity = (
            run.get("kind", "run"),
            run.get("verdict"),
            run.get("highest_severity"),
        )
        before = last.get(kind)
        last[kind] = (verdict, severity)
        if not since_ms <= ts < until_ms:
            continue
        source = f"report {_file(entry, 'html') or run.get('id')}"
        was_red = before is not None and before[0] == "red"
        if verdict == "red":
            failures = _failures(root, entry)
            first = f"first red check {_check_name(failures[0])}" if failures else "no check named"
            if not was_red:
                text = f"suite {kind} run red ({severity}): {first}"
                out.append(Entry(ts, DETECTED, text, source, opens=("suite", kind)))
            elif before is not None and before[1] != severity:
                text = f"suite {kind} run still red, severity {before[1]} -> {severity}: {first}"
                out.append(Entry(ts, NOTE, text, source))
            for failure in failures:
                subject, layer = failure.get("subject"), failure.get("layer")
                if subject and layer in ("strategy", "portfolio"):
                    scope.add((layer, str(subject)))
        elif verdict == "green" and was_red:
            text = f"suite {kind} run green again: first green after red"
            out.append(Entry(ts, RECOVERED, text, source, closes=("suite", kind)))
    return out, scope
