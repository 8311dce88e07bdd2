"""Where a run's reports go and what they are called.

    reports/<YYYY-MM-DD>/<kind>-<YYYYMMDDTHHMMSSZ>-<run id>.html  (+ .json, .xml)

The date folder and the time are UTC; the run id is 8 random hex digits. A name is
reserved by creating the HTML file exclusively, so two runs in the same second (cron
and an operator) can never overwrite each other's report.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

# The reports root is the manifest's configuration (where the trail lives); kept importable
# from here for the callers that find it beside the report names.
from tradeops._record import frozen_record
from tradeops.config import reports_root as reports_root

KINDS = ("preflight", "full", "slo", "promote-gate")
# A report file inside the reports root, as the chain records it (POSIX, relative).
REPORT_NAME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})/"
    r"(?P<kind>preflight|full|slo|promote-gate)-(?P<time>\d{8}T\d{6}Z)-(?P<run>[0-9a-f]{8})"
    r"\.(?P<ext>html|json|xml)$"
)
EXTENSIONS = ("html", "json", "xml")
_RESERVE_ATTEMPTS = 20  # a bounded retry: 8 hex digits collide once in 4 billion


@frozen_record
class RunPaths:
    """One run's three files: the HTML report, its JSON summary and its JUnit XML."""

    run_id: str
    kind: str
    started: datetime
    html: Path
    json: Path
    xml: Path

    @property
    def stem(self) -> str:
        """The shared file name without extension, e.g. `preflight-20261120T090000Z-3f9a1c2b`."""
        return self.html.stem


def report_kind(markexpr: str, args: list[str], rootdir: Path, invocation_dir: Path) -> str:
    """preflight, promote-gate, slo or full: from the marker expression, then the paths run."""
    words = set(re.findall(r"[A-Za-z_]+", markexpr or ""))
    negated = set(re.findall(r"not\s+([A-Za-z_]+)", markexpr or ""))
    selected = words - negated
    if "promote_gate" in selected:
        return "promote-gate"
    if "preflight" in selected:
        return "preflight"
    if "slo" in selected:
        return "slo"
    slo_dir = (rootdir / "slo").resolve()
    targets = [(invocation_dir / arg.split("::")[0]).resolve() for arg in args]
    if targets and all(t == slo_dir or slo_dir in t.parents for t in targets):
        return "slo"
    return "full"


def reserve(root: Path, kind: str, now: datetime | None = None) -> RunPaths:
    """Create the run's date folder and claim a fresh name by creating its HTML file."""
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}; known: {', '.join(KINDS)}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    folder = root / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(_RESERVE_ATTEMPTS):
        run_id = secrets.token_hex(4)
        stem = f"{kind}-{now.strftime('%Y%m%dT%H%M%SZ')}-{run_id}"
        html = folder / f"{stem}.html"
        try:
            # O_EXCL: the name is ours or the open fails; never an overwrite.
            os.close(os.open(html, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            continue
        if any((folder / f"{stem}.{ext}").exists() for ext in ("json", "xml")):
            html.unlink()
            continue
        return RunPaths(run_id, kind, now, html, folder / f"{stem}.json", folder / f"{stem}.xml")
    raise FileExistsError(f"{folder}: could not find a free report name")


def beside(html: Path, kind: str, now: datetime | None = None) -> RunPaths:
    """The machine outputs beside a report whose path the user chose with --html."""
    html = html.expanduser().resolve()
    return RunPaths(
        secrets.token_hex(4),
        kind,
        (now or datetime.now(UTC)).astimezone(UTC),
        html,
        html.with_suffix(".json"),
        html.with_suffix(".xml"),
    )


def relative(root: Path, path: Path) -> str:
    """A path inside the reports root as the chain records it: POSIX, relative."""
    return path.resolve().relative_to(root.resolve()).as_posix()
