"""reports/index.html: the kept runs as a dashboard, kept up to date at a flat cost.

index.html shows the newest WINDOW runs (real times, platform, kind, scenario, verdict,
completeness) and the per-check trend over the newest TREND_RUNS runs of the real
platform, grouped by check; sandbox drills are listed but never count as flapping.
Older runs move to pages of PAGE runs (reports/index/runs-000001.html is the oldest),
each written once when it fills.

A run never rereads the history: `.index-state.json` holds the rows shown, the trend's
cells and the chain head they reflect; each run reads the chain's tail since that head,
its own JSON summary, and rewrites index.html and the current page. A missing or
inconsistent state (or `python -m tradeops.reports index`) rebuilds it from the chain,
which is linear, like `verify`. Plain HTML and inline CSS, no script: it opens from a
file:// URL on an auditor's laptop months later. Written atomically, under the lock.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from tradeops.reports import _index_html, chain
from tradeops.reports._index_html import TrendRow, check_name, trend

__all__ = ["TrendRow", "check_name", "rebuild", "trend", "write_index"]

INDEX_NAME = "index.html"
STATE_NAME = ".index-state.json"
PAGES_DIR = "index"
WINDOW = 200  # runs on index.html
PAGE = 200  # runs per older page
TREND_RUNS = 30  # real-platform runs the trend shows
CATCH_UP = 64  # chain entries read back to find the state's head; further: rebuild
STATE_VERSION = 1


def load_summary(root: Path, entry: dict) -> dict | None:
    """The run's JSON summary as recorded, or None if it is missing or unreadable."""
    for record in entry.get("files", []):
        if record["path"].endswith(".json"):
            try:
                data = json.loads((root / record["path"]).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            return data if isinstance(data, dict) else None
    return None


def write_index(root: Path, keep_days: int | None = None) -> Path:
    """Bring index.html up to date with the chain (call under `chain.locked(root)`)."""
    state = _load_state(root)
    new = _since(root, state["head"]) if state is not None else None
    if state is None or new is None:
        return rebuild(root, keep_days)
    for entry in new:
        _apply(root, state, entry)
    return _write(root, state, keep_days)


def rebuild(root: Path, keep_days: int | None = None) -> Path:
    """index.html, every page and the state, from the whole chain (linear in history)."""
    state = _empty_state()
    with contextlib.suppress(FileNotFoundError):
        for old in (root / PAGES_DIR).glob("runs-*.html"):
            old.unlink()
    entries = chain.read_entries(root)
    pruned = {f["run"] for e in entries if e.get("action") == "prune" for f in e["removed"]}
    adds = [e for e in entries if e.get("action") == "add"]
    # Only the newest runs need their JSON read: the trend shows TREND_RUNS of each kind.
    trend_from = _trend_start(adds)
    for number, entry in enumerate(adds):
        _add(root, state, entry, read_summary=number >= trend_from, pruned=pruned)
    state["head"] = chain.head(entries)
    state["seq"] = entries[-1]["seq"] if entries else 0
    return _write(root, state, keep_days)


def _trend_start(adds: list[dict]) -> int:
    real = drills = 0
    for number in range(len(adds) - 1, -1, -1):
        if _scenario(adds[number]["run"]) is None:
            real += 1
        else:
            drills += 1
        if real >= TREND_RUNS and drills >= TREND_RUNS:
            return number
    return 0


# -- the state -------------------------------------------------------------------------


def _empty_state() -> dict:
    return {
        "v": STATE_VERSION,
        "head": chain.GENESIS,
        "seq": 0,
        "live": 0,
        "runs": [],  # newest last, at most WINDOW
        "spill": [],  # the page being filled, oldest first, at most PAGE
        "pages": [],  # full pages: {"file", "first", "last", "count"}
        "page_no": 1,  # the number of the page being filled
        "trend": {"real": [], "drill": []},  # at most TREND_RUNS columns each
    }


def _load_state(root: Path) -> dict | None:
    try:
        state = json.loads((root / STATE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION:
        return None
    return state


def _since(root: Path, head: str) -> list[dict] | None:
    """The entries after `head`, oldest first; None when the tail does not reach it."""
    entries = chain.tail(root, CATCH_UP)
    if head == chain.GENESIS and (not entries or entries[0].get("seq") == 1):
        return entries
    for number, entry in enumerate(entries):
        if entry.get("hash") == head:
            return entries[number + 1 :]
    return None


def _apply(root: Path, state: dict, entry: dict) -> None:
    if entry.get("action") == "add":
        _add(root, state, entry, read_summary=True, pruned=set())
    elif entry.get("action") == "prune":
        gone = {f["run"] for f in entry.get("removed", [])}
        state["live"] -= len(gone)
        for row in (*state["runs"], *state["spill"]):
            if row["id"] in gone:
                row["pruned"] = True
        cutoff = entry.get("cutoff", "")
        for page in [p for p in state["pages"] if p["last"] < cutoff]:
            state["pages"].remove(page)  # every run on it is past retention
            with contextlib.suppress(FileNotFoundError):
                (root / PAGES_DIR / page["file"]).unlink()
    state["head"] = entry.get("hash", state["head"])
    state["seq"] = entry.get("seq", state["seq"])


def _add(root: Path, state: dict, entry: dict, *, read_summary: bool, pruned: set) -> None:
    run = entry["run"]
    html = next((f["path"] for f in entry["files"] if f["path"].endswith(".html")), None)
    platform = run.get("platform") or {}
    row = {
        "id": run.get("id", ""),
        "started": run.get("started", ""),
        "kind": run.get("kind", ""),
        "platform": platform.get("name"),
        "scenario": _scenario(run),
        "verdict": run.get("verdict"),
        "highest_severity": run.get("highest_severity"),
        "completeness": run.get("completeness"),
        "counts": run.get("counts", {}),
        "html": html,
        "pruned": run.get("id") in pruned,
    }
    state["live"] += 0 if row["pruned"] else 1
    state["runs"].append(row)
    if len(state["runs"]) > WINDOW:
        state["spill"].append(state["runs"].pop(0))
        if len(state["spill"]) >= PAGE:
            _write_page(root, state, state["spill"], final=True)
            state["spill"] = []
    if read_summary:
        summary = load_summary(root, entry)
        if summary is not None and row["scenario"] is None:
            row["scenario"] = (summary.get("platform") or {}).get("scenario")
        column = {
            "id": row["id"],
            "started": row["started"],
            "kind": row["kind"],
            "cells": _cells(summary),
        }
        kind = "real" if row["scenario"] is None else "drill"
        state["trend"][kind] = [*state["trend"][kind], column][-TREND_RUNS:]


def _scenario(run: dict) -> str | None:
    return (run.get("platform") or {}).get("scenario")


def _cells(summary: dict | None) -> dict[str, list]:
    """check[subject] -> [outcome, effective severity, summary] for one run."""
    cells = {}
    for check in (summary or {}).get("checks", []):
        outcome = check.get("outcome", "")
        failed = outcome in ("failed", "error")
        text = (check.get("summary") or "")[:160] if outcome != "passed" else ""
        cells[check_name(check)] = [outcome, check.get("effective_severity") if failed else None]
        if text:
            cells[check_name(check)].append(text)
    return cells


# -- writing -----------------------------------------------------------------------------


def _write(root: Path, state: dict, keep_days: int | None) -> Path:
    if state["spill"]:
        _write_page(root, state, state["spill"], final=False)
    page = _index_html.index_page(state, keep_days, PAGES_DIR)
    path = root / INDEX_NAME
    _atomic(path, page)
    _atomic(root / STATE_NAME, json.dumps(state, separators=(",", ":")))
    return path


def _write_page(root: Path, state: dict, rows: list[dict], *, final: bool) -> None:
    number = state["page_no"]
    name = f"runs-{number:06d}.html"
    (root / PAGES_DIR).mkdir(exist_ok=True)
    _atomic(root / PAGES_DIR / name, _index_html.runs_page(rows, number, final))
    if final:
        first, last = rows[0]["started"], rows[-1]["started"]
        state["pages"].append({"file": name, "first": first, "last": last, "count": len(rows)})
        state["page_no"] = number + 1


def _atomic(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)  # readers see the old file or the new one, never half
