"""The kept report: the run's JSON beside its HTML and JUnit, the chain, retention, index.

Runs on the controller, inside the paper trail's sessionfinish wrapper, while it holds the
chain's exclusive lock, so a concurrent `verify` never sees a run half-recorded.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from tradeops import verdict
from tradeops._session import OpsSession
from tradeops.outputs.json_file import write_atomically
from tradeops.reports import chain, index
from tradeops.reports.paths import RunPaths

NAME = "kept"
REDACTED = "[redacted]"
_MIN_SECRET_LEN = 8  # shorter "tokens" would match innocent text; real ones are far longer


@dataclass
class Recorded:
    """What recording did, for the terminal."""

    files: list[Path]
    entry: dict | None = None
    pruned: dict | None = None
    index: Path | None = None
    scrubbed: list[Path] | None = None


def secret_values(ops: OpsSession) -> list[str]:
    """The tokens this run holds, to make sure none reached a report (never printed)."""
    manifest = ops.manifest
    if manifest is None:
        return []
    secrets = [manifest.control_plane.token] + [b.token for b in manifest.brokers]
    return [s.reveal() for s in secrets if s is not None and len(s.reveal()) >= _MIN_SECRET_LEN]


def scrub(files: list[Path], secrets: list[str]) -> list[Path]:
    """Replace any token found in the files; return the files that held one.

    A last line of defence: the checks and connectors never put a token in a message,
    and the canary test proves it; a file listed here means that promise was broken.
    """
    dirty = []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        clean = text
        for secret in secrets:
            clean = clean.replace(secret, REDACTED)
        if clean != text:
            path.write_text(clean, encoding="utf-8", errors="surrogateescape")
            dirty.append(path)
    return dirty


def outputs(run: RunPaths, data: dict, user_xml: Path | None) -> list[Path]:
    """Write the JSON summary (and copy a --junitxml elsewhere); the run's files in order."""
    write_atomically(run.json, data)
    if user_xml is not None and user_xml.is_file() and user_xml.resolve() != run.xml:
        shutil.copyfile(user_xml, run.xml)
    files = [run.html] if run.html.is_file() and run.html.stat().st_size else []
    return files + [run.json] + ([run.xml] if run.xml.is_file() else [])


def record(
    root: Path | None, run: RunPaths, data: dict, ops: OpsSession, user_xml: Path | None
) -> Recorded:
    """Outputs, scrub, then (for a kept report) chain entry, retention and the index."""
    files = outputs(run, data, user_xml)
    done = Recorded(files, scrubbed=scrub(files, secret_values(ops)))
    if root is None:  # --html chose the place: beside it, not in the kept trail
        return done
    done.entry = chain.append_run(root, files, verdict.chain_run(data))
    keep_days = ops.manifest.reports.keep_days if ops.manifest is not None else None
    if keep_days is not None:
        done.pruned = chain.prune(root, keep_days, spare=run.run_id)
    done.index = index.write_index(root, keep_days)
    return done
